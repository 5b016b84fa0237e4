"""make demo: the whole onboarding, on an emulated Control Tower landing zone, in one run.

Each step prints what it does and what it saw; a failure names the step and why, and exits 1.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

import boto3

from expel_onboarding import cli
from localaws import deploy, landing_zone, server

OUR_ENTRY = "ExpelOnboarding"


class DemoFailed(Exception):
    """A demo step saw something other than what the onboarding promises."""


@contextlib.contextmanager
def step(number: int, title: str) -> Iterator[None]:
    print(f"\n[{number}/7] {title}", flush=True)
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        raise DemoFailed(f"step {number} ({title}) failed: {type(exc).__name__}: {exc}") from exc
    print(f"      done in {time.perf_counter() - started:.1f} s", flush=True)


def parameters(zone: landing_zone.LandingZone) -> dict[str, str]:
    return {
        "WorkbenchExternalId": landing_zone.EXTERNAL_ID,
        "KeyPolicyRoleArn": zone.key_policy_role_arn,
        # The security-lake team already takes ObjectCreated under reports/; CloudTrail writes under AWSLogs/.
        "NotificationPrefix": "AWSLogs/",
    }


def cloudtrail_object_key() -> str:
    day = time.strftime("%Y/%m/%d", time.gmtime())
    stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime())
    account = landing_zone.MANAGEMENT
    return f"AWSLogs/o-demo/{account}/CloudTrail/us-east-1/{day}/{account}_CloudTrail_us-east-1_{stamp}_demo+1.json.gz"


def deliver_a_log_object(zone: landing_zone.LandingZone, queue_url: str) -> str:
    key = cloudtrail_object_key()
    record = {"Records": [{"eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1"}]}
    boto3.client("s3").put_object(Bucket=zone.bucket, Key=key, Body=gzip.compress(json.dumps(record).encode()))
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            body = json.loads(message["Body"])
            for record_ in body.get("Records", []):
                delivered = unquote_plus(record_["s3"]["object"]["key"])
                if delivered == key:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    return f"{record_['eventName']} s3://{zone.bucket}/{delivered}"
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
    boto3.client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)  # type: ignore[arg-type]


def wait_deleted(timeout: float = 60) -> None:
    cloudformation = boto3.client("cloudformation")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stacks = cloudformation.list_stacks()["StackSummaries"]
        if all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if s["StackName"] == deploy.STACK):
            return
        time.sleep(0.25)
    raise DemoFailed(f"{deploy.STACK} was not deleted within {timeout:.0f} s")


def show(label: str, value: Any) -> None:
    print(f"      {label:<34} {value}", flush=True)


def demo(print_cli: Callable[[str], None] = print) -> None:
    started = time.perf_counter()
    with server.running() as endpoint:
        with step(1, "Start the local AWS, seed a Control Tower landing zone, deploy template.yaml"):
            show("local AWS", endpoint)
            zone = landing_zone.seed()
            before_notifications = landing_zone.notifications_of(zone.bucket)
            before_key_policy = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
            show("log bucket", zone.bucket)
            show("other teams' entries", [e["Id"] for _, e in _entries(before_notifications)])
            show("CloudTrail key (management)", zone.cloudtrail_key_arn)
            outputs = deploy.deploy(parameters(zone))
            show("stack", f"{deploy.STACK}: CREATE_COMPLETE")

        with step(2, "The Workbench values (stack outputs)"):
            for key in ("RoleArn", "SqsUrl", "ManagementAccountId", "Region", "ActionRequired"):
                show(key, outputs[key])
            if outputs["ManagementAccountId"] != landing_zone.MANAGEMENT:
                raise DemoFailed(f"ManagementAccountId is {outputs['ManagementAccountId']}")

        with step(3, "A CloudTrail log object arrives in the queue (S3 -> SNS -> SQS)"):
            show("received", deliver_a_log_object(zone, outputs["SqsUrl"]))

        with step(4, "The other teams' notifications are still there"):
            after = landing_zone.notifications_of(zone.bucket)
            for list_name, entry in _entries(before_notifications):
                if entry not in after.get(list_name, []):
                    raise DemoFailed(f"the entry {entry['Id']} changed or disappeared")
                show(f"{list_name[:-14]} {entry['Id']}", "unchanged")
            show("ours", [e["Id"] for _, e in _entries(after) if e["Id"].startswith(OUR_ENTRY)])

        with step(5, "Drift: someone deletes our entry; check reports it, repair fixes it"):
            drop_our_entry(zone.bucket)
            code, printed = run_cli("check", endpoint=endpoint)
            print_cli(_indent(printed))
            if code != cli.EXIT_DRIFTED:
                raise DemoFailed(f"check exited {code}, expected {cli.EXIT_DRIFTED} (drift)")
            code, printed = run_cli("repair", endpoint=endpoint)
            print_cli(_indent(printed))
            if code != cli.EXIT_OK:
                raise DemoFailed(f"repair exited {code}")

        with step(6, "Delete the stack: the bucket and the key policy are exactly as before"):
            deploy.destroy()
            wait_deleted()
            if landing_zone.notifications_of(zone.bucket) != before_notifications:
                raise DemoFailed("the bucket's notification configuration differs from before the deploy")
            if landing_zone.key_policy_of(zone.cloudtrail_key_arn) != before_key_policy:
                raise DemoFailed("the CloudTrail key policy differs from before the deploy")
            show("notification configuration", "identical to before the deploy")
            show("CloudTrail key policy", "identical to before the deploy")

        with step(7, "Stop the local AWS"):
            pass
    print(f"\nThe onboarding works end to end ({time.perf_counter() - started:.0f} s).")


def _entries(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    lists = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")
    return [(name, entry) for name in lists for entry in config.get(name, [])]


def _indent(text: str) -> str:
    return "\n".join(f"      | {line}" for line in text.rstrip().splitlines())


def main() -> int:
    warnings.simplefilter("ignore")
    try:
        demo()
    except DemoFailed as failed:
        print(f"\nDEMO FAILED: {failed}", file=sys.stderr)
        return 1
    return 0
