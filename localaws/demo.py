"""make demo: the whole onboarding, on an emulated Control Tower landing zone, in one run.

Each step prints what it does and what it saw; a failure names the step and why, and exits 1.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

from expel_onboarding_cli import cli
from localaws import clients, deploy, landing_zone, log_files, stack_parameters, trail_deliveries, workbench
from localaws.accounts import MANAGEMENT

OUR_ENTRY = "ExpelOnboarding"


class DemoFailed(Exception):
    """A demo step saw something other than what the onboarding promises."""


@contextlib.contextmanager
def step(label: str, title: str) -> Iterator[None]:
    print(f"\n[{label}] {title}", flush=True)
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        raise DemoFailed(f"step {label} ({title}) failed: {type(exc).__name__}: {exc}") from exc
    took = time.perf_counter() - started
    print(f"      done in {took:.1f} s" if took >= 0.05 else "      done in under 0.1 s", flush=True)


def deliver_a_log_object(zone: landing_zone.LandingZone, outputs: dict[str, str]) -> str:
    """CloudTrail delivers a log file (the object, then its message on the trail's topic); the S3 event
    Workbench reads (as the Expel role, the only principal the queue lets take messages) must reach its
    queue, raw, whichever delivery mode the landing zone got."""
    key = trail_deliveries.deliver_log_file(zone)
    queue_url = outputs["SqsUrl"]
    sqs = workbench.sqs(outputs["RoleArn"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            body = json.loads(message["Body"])
            for record in body.get("Records", []):
                delivered = unquote_plus(record["s3"]["object"]["key"])
                if delivered == key:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    return f"{record['eventSource']} {record['eventName']} s3://{zone.bucket}/{delivered}"
    raise DemoFailed(f"no S3 event for {key} reached {queue_url} within 20 s")


def run_cli(*argv: str, endpoint: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main([*argv, "--region", "us-east-1", "--endpoint-url", endpoint], out=out)
    return code, out.getvalue()


def drop_our_entry(bucket: str) -> None:
    config = landing_zone.notifications_of(bucket)
    config["TopicConfigurations"] = [
        entry for entry in config.get("TopicConfigurations", []) if not entry["Id"].startswith(OUR_ENTRY)
    ]
    clients.s3().put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)  # type: ignore[arg-type]


def wait_deleted(timeout: float = 60) -> None:
    cloudformation = clients.cloudformation()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stacks = cloudformation.list_stacks()["StackSummaries"]
        if all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if s["StackName"] == deploy.STACK):
            return
        time.sleep(0.25)
    raise DemoFailed(f"{deploy.STACK} was not deleted within {timeout:.0f} s")


def relay_subscriptions(zone: landing_zone.LandingZone) -> list[str]:
    """Our relay queue's subscriptions to the trail's topic."""
    subscriptions = clients.sns().list_subscriptions_by_topic(TopicArn=zone.trail_topic_arn)["Subscriptions"]
    # CloudFormation names the queue <stack>-RelayQueue-<random>.
    return [s["SubscriptionArn"] for s in subscriptions if f":{deploy.STACK}-RelayQueue-" in s["Endpoint"]]


def show(label: str, value: Any) -> None:
    print(f"      {label:<34} {value}", flush=True)


def show_layout(zone: landing_zone.LandingZone) -> None:
    """Control Tower's key layout: the trail's S3KeyPrefix is the organization id, and log files are below it."""
    show("trail's S3KeyPrefix (org id)", zone.key_prefix)
    show("log files under", f"{zone.key_prefix}/AWSLogs/{zone.organization_id}/<account>/CloudTrail/")


def show_outputs(outputs: dict[str, str], expected_mode: str) -> None:
    for key in ("RoleArn", "SqsUrl", "ManagementAccountId", "Region", "DeliveryMode", "ActionRequired"):
        show(key, outputs[key])
    if outputs["ManagementAccountId"] != MANAGEMENT:
        raise DemoFailed(f"ManagementAccountId is {outputs['ManagementAccountId']}")
    if not outputs["DeliveryMode"].startswith(f"{expected_mode}:") or outputs["ActionRequired"] != "none":
        raise DemoFailed(f"expected {expected_mode} with nothing to do, got {outputs}")


def landing_zone_3(print_cli: Callable[[str], None]) -> None:
    """Up to landing zone 3.x: our entry on the bucket, beside the other teams' (bucket-notification)."""
    # Imported here: the server brings all of moto's CloudFormation (two seconds of imports), which the
    # local AWS's client commands (python -m localaws seed/deploy/destroy) use this module without.
    from localaws import server

    with server.running() as endpoint:
        with step("3.x 1/6", "Start the local AWS, seed a 3.x landing zone, deploy template.yaml"):
            show("local AWS", endpoint)
            zone = landing_zone.seed("3")
            before_notifications = landing_zone.notifications_of(zone.bucket)
            before_key_policy = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
            show("log bucket", zone.bucket)
            show_layout(zone)
            show("trail's topic (Audit account)", zone.trail_topic_arn)
            show("other teams' entries", [e["Id"] for _, e in _entries(before_notifications)])
            show("CloudTrail key (management)", zone.cloudtrail_key_arn)
            delegate_arn = stack_parameters.deploy_org(zone)
            show("org stack (management)", f"{deploy.ORG_STACK}: CREATE_COMPLETE")
            show("key-policy delegate", delegate_arn)
            outputs = deploy.deploy(stack_parameters.parameters(zone, delegate_arn))
            show("stack", f"{deploy.STACK}: CREATE_COMPLETE")

        with step("3.x 2/6", "The Workbench values (stack outputs)"):
            show_outputs(outputs, "bucket-notification")

        with step("3.x 3/6", "A CloudTrail log file arrives in the queue (S3 -> SNS -> SQS)"):
            show("received", deliver_a_log_object(zone, outputs))

        with step("3.x 4/6", "The other teams' notifications are still there"):
            after = landing_zone.notifications_of(zone.bucket)
            for list_name, entry in _entries(before_notifications):
                if entry not in after.get(list_name, []):
                    raise DemoFailed(f"the entry {entry['Id']} changed or disappeared")
                show(f"{list_name[:-14]} {entry['Id']}", "unchanged")
            show("ours", [e["Id"] for _, e in _entries(after) if e["Id"].startswith(OUR_ENTRY)])

        with step("3.x 5/6", "Drift: someone deletes our entry; check reports it, repair fixes it"):
            drop_our_entry(zone.bucket)
            code, printed = run_cli("check", endpoint=endpoint)
            print_cli(_indent(printed))
            if code != cli.EXIT_DRIFTED:
                raise DemoFailed(f"check exited {code}, expected {cli.EXIT_DRIFTED} (drift)")
            code, printed = run_cli("repair", endpoint=endpoint)
            print_cli(_indent(printed))
            if code != cli.EXIT_OK:
                raise DemoFailed(f"repair exited {code}")

        with step("3.x 6/6", "Delete the stack: the bucket and the key policy are exactly as before"):
            deploy.destroy()
            wait_deleted()
            if landing_zone.notifications_of(zone.bucket) != before_notifications:
                raise DemoFailed("the bucket's notification configuration differs from before the deploy")
            if landing_zone.key_policy_of(zone.cloudtrail_key_arn) != before_key_policy:
                raise DemoFailed("the CloudTrail key policy differs from before the deploy")
            show("notification configuration", "identical to before the deploy")
            show("CloudTrail key policy", "identical to before the deploy")


def landing_zone_4(print_cli: Callable[[str], None]) -> None:
    """Landing zone 4.0: CT.S3.PV.8 guards the bucket, so the relay subscribes to the trail's topic."""
    from localaws import server  # see landing_zone_3

    with server.running() as endpoint:
        with step("4.0 1/5", "Start the local AWS, seed a 4.0 landing zone, deploy template.yaml"):
            show("local AWS", endpoint)
            zone = landing_zone.seed("4.0")
            before_notifications = landing_zone.notifications_of(zone.bucket)
            before_key_policy = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
            show("log bucket (new 4.0 name)", zone.bucket)
            show_layout(zone)
            show("trail's topic (Log Archive)", zone.trail_topic_arn)
            show("mandatory controls (SCPs)", "CT.S3.PV.8 on the bucket, CT.SNS.PV.1 on the topic")
            outputs = deploy.deploy(stack_parameters.parameters(zone, stack_parameters.deploy_org(zone)))
            show("stack", f"{deploy.STACK}: CREATE_COMPLETE")

        with step("4.0 2/5", "The Workbench values (stack outputs): the same, through trail-topic"):
            show_outputs(outputs, "trail-topic")

        with step("4.0 3/5", "A CloudTrail log file arrives in the queue (trail topic -> relay -> SNS -> SQS)"):
            show("relay subscribed", relay_subscriptions(zone))
            show("received, raw S3 event", deliver_a_log_object(zone, outputs))

        with step("4.0 4/5", "The bucket is untouched; check finds nothing to do"):
            if landing_zone.notifications_of(zone.bucket) != before_notifications:
                raise DemoFailed("the bucket's notification configuration changed on a 4.0 landing zone")
            show("notification configuration", "identical to before the deploy")
            code, printed = run_cli("check", endpoint=endpoint)
            print_cli(_indent(printed))
            if code != cli.EXIT_OK:
                raise DemoFailed(f"check exited {code}, expected {cli.EXIT_OK}")

        with step("4.0 5/5", "Delete the stack: the relay is unsubscribed, the key policy is as before"):
            deploy.destroy()
            wait_deleted()
            if relay_subscriptions(zone):
                raise DemoFailed(f"the relay is still subscribed to {zone.trail_topic_arn}")
            if landing_zone.key_policy_of(zone.cloudtrail_key_arn) != before_key_policy:
                raise DemoFailed("the CloudTrail key policy differs from before the deploy")
            show("relay subscriptions", "none left")
            show("CloudTrail key policy", "identical to before the deploy")


def demo(print_cli: Callable[[str], None] = print) -> None:
    started = time.perf_counter()
    print("Landing zone 3.x: bucket-notification", flush=True)
    landing_zone_3(print_cli)
    print("\nLanding zone 4.0: trail-topic", flush=True)
    landing_zone_4(print_cli)
    print(f"\nThe onboarding works end to end on both landing zones ({time.perf_counter() - started:.0f} s).")


def _entries(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    lists = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")
    return [(name, entry) for name in lists for entry in config.get(name, [])]


def _indent(text: str) -> str:
    return "\n".join(f"      | {line}" for line in text.rstrip().splitlines())


def main() -> int:
    warnings.simplefilter("ignore")
    log = log_files.path_for("demo")
    try:
        with log_files.kept_in(log, sys.stderr):
            demo()
        print(f"\nThe functions' and services' logs of this run: {log}")
    except DemoFailed as failed:
        print(f"\nDEMO FAILED: {failed}\nThe functions' and services' logs: {log}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\nmake demo: interrupted. Its local AWS lived in this process and stopped with it; nothing outside it "
            "was touched. make demo starts again from the beginning.",
            file=sys.stderr,
        )
        return 130
    return 0
