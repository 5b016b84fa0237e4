"""The benchmark behind `make bench`: AWS calls and writes per step and mode, merge times, and the relay.

Calls are counted with botocore's before-call hook against moto, on the local landing zone
(localaws.landing_zone), by running each step's real Lambda handler in-process.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any
from unittest import mock

import boto3
from botocore.stub import Stubber
from crhelper import CfnResource
from moto import mock_aws

from expel_onboarding import caches, key_policy, notification
from expel_onboarding import clients as product_clients
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding_cli import feed_load
from localaws import (
    ROOT,
    deployment,
    lambda_runtime,
    landing_zone,
    service_gaps,
    stack_parameters,
    stack_resources,
    state,
)
from localaws.aws_calls import AwsCalls
from localaws.lambda_context import FakeContext
from scripts import bench_freshness

STEPS = ["discover", "ownership", "key_policy", "notification", "verify"]


BENCH = FakeContext(function_name="bench", invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench")


def _run_mode(mode: str, discovered: dict[str, Any]) -> list[tuple[str, str, int, list[str]]]:
    rows = []
    order = STEPS if mode != "remove" else ["discover", "notification", "key_policy", "ownership"]
    for step in order:
        calls = AwsCalls().start()
        handler = importlib.import_module(f"functions.{step}.app").lambda_handler
        report = handler({"Mode": mode, "Discover": discovered}, BENCH)
        rows.append((step, report["Status"], len(calls.made), calls.writes))
    return rows


def aws_calls_per_step(generation: str) -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    # Each generation in a local AWS of its own: what outlives a moto reset (member accounts) goes first.
    state.reset()
    # In-process Lambda: the KeyPolicy step invokes the management account's delegate.
    with mock_aws(), service_gaps.filled(), lambda_runtime.in_process_lambda():
        zone = landing_zone.seed(generation)
        os.environ.update(stack_resources.deploy_stack_resources(zone))
        caches.reset()
        discover = importlib.import_module("functions.discover.app").lambda_handler
        discovered = discover({"Mode": "apply"}, BENCH)
        mode_in_use = discovered["Data"]["DeliveryMode"]
        print(f"AWS calls per step and mode: landing zone {generation}, {mode_in_use} (moto, cross-account key)")
        print(f"{'run':<22}{'step':<14}{'status':<17}{'calls':>6}  writes")
        for label, mode in [
            ("apply (first)", "apply"),
            ("apply (converged)", "apply"),
            ("check (converged)", "check"),
            ("repair (converged)", "repair"),
            ("remove", "remove"),
            ("remove (again)", "remove"),
        ]:
            rows = _run_mode(mode, discovered)
            for step, status, count, writes in rows:
                print(f"{label:<22}{step:<14}{status:<17}{count:>6}  {', '.join(writes) or '-'}")
            total_calls = sum(row[2] for row in rows)
            total_writes = sum(len(row[3]) for row in rows)
            print(f"{label:<22}{'TOTAL':<14}{'':<17}{total_calls:>6}  {total_writes} writes\n")


def _median_ms(work: Callable[[], object], repeat: int = 20) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def merge_times() -> None:
    target = notification.Target(
        "aws-controltower-logs-123456789012-us-east-1",
        "123456789012",
        "ExpelOnboardingA1B2C3D4E5F6",
        "arn:aws:sns:us-east-1:123456789012:expel-cloudtrail-objects",
        "o-a1b2c3d4e5/AWSLogs/o-a1b2c3d4e5/",
    )
    foreign = {
        "QueueConfigurations": [
            {
                "Id": f"team-{index}",
                "QueueArn": f"arn:aws:sqs:us-east-1:123456789012:team-{index}",
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": f"teams/{index:04d}/"}]}},
            }
            for index in range(1000)
        ]
    }
    ours = notification.our_entry(target)
    merged = notification.merge(foreign, ours)
    print("Merge times (median of 20)")
    merge_ms = _median_ms(lambda: notification.merge(foreign, ours))
    overlap_ms = _median_ms(lambda: notification.overlapping(merged, ours))
    print(f"  notification merge, 1,000 foreign entries:       {merge_ms:7.2f} ms")
    print(f"  notification overlap check, 1,000 entries:       {overlap_ms:7.2f} ms")

    key_target = key_policy.Target(
        "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "ExpelOnboardingA1B2C3D4E5F6",
        "123456789012",
        "arn:aws:iam::123456789012:role/ExpelTrailAssumeRole",
        "us-east-1",
    )
    statements: list[dict[str, Any]] = []
    policy: dict[str, Any] = {"Version": "2012-10-17", "Statement": statements}
    # Near KMS's limit as KMS counts it: the text as stored, whitespace included (the step keeps the policy's own).
    while len(json.dumps(policy, indent=2)) < 30 * 1024:
        index = len(statements)
        statements.append(
            {
                "Sid": f"Team{index}",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::111111111111:role/team-{index}"},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
            }
        )
    statement = key_policy.our_statement(key_target)
    text = json.dumps(policy, indent=2)
    size = len(text)

    def merge_and_check() -> None:
        # What the step does with a policy it read: parse the text, splice our statement in and check the edit
        # (the orphan scan and the size included).
        parsed = key_policy.parse(text, key_target.key_arn)
        key_policy.check_writable(key_policy.with_statement(parsed, statement), key_target)

    policy_ms = _median_ms(merge_and_check)
    print(f"  key policy parse, splice and checks, {size / 1024:.1f} KiB:  {policy_ms:7.2f} ms")


def _step_calls(calls: AwsCalls) -> list[str]:
    return [call for call in calls.made if not call.startswith(("stepfunctions:", "lambda:"))]


def whole_workflow() -> None:
    """The real ASL under moto's interpreter, the handlers in-process, as the workflow tests run it."""
    print("\nWhole workflow (real ASL, moto's Step Functions interpreter, handlers in-process)")
    print(f"{'run':<40}{'step calls':>11}{'writes':>8}{'seconds':>9}")
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        lambda_runtime.in_process_lambda(),
        service_gaps.filled(),
    ):
        zone = landing_zone.seed()
        quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
        environment = {**stack_resources.deploy_stack_resources(zone), **quiet}
        discovered = deployment.deploy(environment)
        keyed = deployment.deploy({**environment, "CLOUDTRAIL_KEY_ARN": zone.cloudtrail_key_arn}, name="keyed")
        for label, flow, mode in [
            ("apply (first)", discovered, "apply"),
            ("check (converged, key discovered)", discovered, "check"),
            ("check (converged, key given)", keyed, "check"),
            ("repair (converged)", discovered, "repair"),
            ("remove", discovered, "remove"),
        ]:
            calls = AwsCalls().start()
            start = time.perf_counter()
            description = deployment.run(flow, {"Mode": mode})
            elapsed = time.perf_counter() - start
            if description["status"] != "SUCCEEDED":
                raise SystemExit(f"{label} failed: {description.get('cause')}")
            print(f"{label:<40}{len(_step_calls(calls)):>11}{len(calls.writes):>8}{elapsed:>9.2f}")
        bridge_overhead(zone, environment)


def bridge_overhead(zone: landing_zone.LandingZone, environment: dict[str, str]) -> None:
    """What the custom resource adds to the run: its handler's time minus the execution's own."""
    flow = deployment.deploy(environment, name="bridged")
    os.environ.update({**environment, "STATE_MACHINE_ARN": flow.state_machine_arn})
    caches.reset()
    sent: list[str] = []

    def capture(self: CfnResource, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        sent.append(status or self.Status)

    with mock.patch.object(CfnResource, "_send", capture):
        bridge = importlib.import_module("functions.bridge.app")
        event = json.loads((ROOT / "events" / "bridge-create.json").read_text())
        event["ResourceProperties"]["LogBucketName"] = zone.bucket
        start = time.perf_counter()
        bridge.lambda_handler(event, FakeContext(function_name="bench-bridge", remaining_ms=300_000))
        handler_seconds = time.perf_counter() - start
    sfn = boto3.client("stepfunctions")
    execution = sfn.list_executions(stateMachineArn=flow.state_machine_arn)["executions"][0]
    run_seconds = (execution["stopDate"] - execution["startDate"]).total_seconds()
    print(
        f"\nBridge (Custom::Onboarding Create, {sent[0]}): handler {handler_seconds:.2f} s, "
        f"execution {run_seconds:.2f} s, added by the bridge {handler_seconds - run_seconds:.2f} s "
        "(its polling interval bounds it)"
    )


IMPORT_PROBE = """
import sys, time
sys.path[:0] = {paths!r}
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""


def _import_seconds(module: str, paths: list[str], runs: int = 7) -> float:
    """Median cold import time in a fresh interpreter, as a Lambda cold start imports."""
    env = {**os.environ, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    samples = []
    for _ in range(runs):
        probe = IMPORT_PROBE.format(paths=paths, module=module)
        result = subprocess.run(  # noqa: S603 - our own interpreter and probe
            [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True, cwd=ROOT
        )
        samples.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def import_times() -> dict[str, float]:
    """Seconds per handler folder, and for bare boto3 under "boto3"; the relay section reads them too."""
    print("\nCold import time of each handler module (median of 7 fresh interpreters)")
    baseline = _import_seconds("boto3", [])
    measured = {"boto3": baseline}
    print(f"  {'import boto3 (baseline)':<28}{baseline * 1000:8.1f} ms")
    layer = str(ROOT / "layers" / "onboarding")
    for folder in sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").is_file()):
        seconds = measured[folder] = _import_seconds("app", [str(ROOT / "functions" / folder), layer])
        print(f"  {'functions/' + folder + '/app.py':<28}{seconds * 1000:8.1f} ms   ratio {seconds / baseline:4.2f}")
    return measured


RELAY_SIZES = (1, 10, 50)


def _relay_event(bucket: str, keys: list[str]) -> dict[str, Any]:
    """The sample SQS event's first record, carrying one CloudTrail message that names keys."""
    record = json.loads((ROOT / "events" / "relay-sqs-batch.json").read_text())["Records"][0]
    return {"Records": [{**record, "body": json.dumps({"s3Bucket": bucket, "s3ObjectKey": keys})}]}


@contextmanager
def relay_in_process() -> Iterator[tuple[landing_zone.LandingZone, Callable[..., Any]]]:
    """A 3.x landing zone in moto with the stack's resources, and the relay's handler, in this process."""
    with mock_aws(), service_gaps.filled():
        zone = landing_zone.seed()
        quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
        os.environ.update({**stack_resources.deploy_stack_resources(zone), **quiet})
        caches.reset()
        yield zone, importlib.import_module("functions.relay.app").lambda_handler


def relay_costs(imports: dict[str, float]) -> None:
    """The relay per CloudTrail message of N log files: AWS calls, time per key, and its cold import."""
    print("\nRelay: one CloudTrail message of N log files (moto, handler in-process; times are moto's, not AWS's)")
    print(f"  {'keys':>5}{'HeadObject':>12}{'PublishBatch':>14}{'calls':>7}{'ms per key':>12}")
    with relay_in_process() as (zone, handler):
        first = json.loads((ROOT / "events" / "relay-sqs-batch.json").read_text())["Records"][0]
        template = json.loads(first["body"])["s3ObjectKey"][0]
        s3 = boto3.client("s3")
        for count in RELAY_SIZES:
            keys = [template.replace(".json.gz", f"{count:02d}{index:04d}.json.gz") for index in range(count)]
            for key in keys:
                s3.put_object(Bucket=zone.bucket, Key=key, Body=b'{"Records":[]}')
            event = _relay_event(zone.bucket, keys)
            calls = AwsCalls().start()
            if handler(event, BENCH)["batchItemFailures"]:
                raise SystemExit(f"the relay failed a message of {count} keys")
            made = calls.count()
            per_key = _median_ms(partial(handler, event, BENCH), repeat=5) / count
            print(
                f"  {count:>5}{made['s3:HeadObject']:>12}{made['sns:PublishBatch']:>14}"
                f"{sum(made.values()):>7}{per_key:>12.2f}"
            )
    relay_seconds, baseline = imports["relay"], imports["boto3"]
    print(
        f"  cold import of functions/relay/app.py: {relay_seconds * 1000:.1f} ms, "
        f"{relay_seconds / baseline:.2f} x bare `import boto3` ({baseline * 1000:.1f} ms)"
    )


SCALE_SAMPLE = 2_000
SCALE_SIZES = (1_000, 5_000)
SCALE_REGIONS = 17
# A region with SNS's lowest default publish quota (300 a second), beside the home region of most zones.
SCALE_QUOTA_REGIONS = ("us-east-1", "ap-east-1")


def relay_at_scale() -> tuple[float, float]:
    """The relay handler, in process, fed a sample of an organization's message stream (one CloudTrail message
    per log file, across accounts and regions, in batches of 10), with AWS answered by botocore's Stubber: the
    CPU is the handler's own (Powertools, botocore, ours), not an emulator's. Its CPU and AWS calls per message."""
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    state.reset()
    with relay_in_process() as (zone, handler):
        s3, sns = product_clients.s3(), product_clients.sns()
        now_ms = int(time.time() * 1000)
        keys = [
            f"{zone.key_prefix}/AWSLogs/{zone.organization_id}/{100000000000 + n % 5000:012d}/CloudTrail/"
            f"region-{n % SCALE_REGIONS}/2026/12/07/{100000000000 + n % 5000:012d}_CloudTrail_"
            f"region-{n % SCALE_REGIONS}_20261207T1200Z_{n:016d}.json.gz"
            for n in range(SCALE_SAMPLE)
        ]
        head = {
            "ContentLength": 2048,
            "ETag": '"0123456789abcdef0123456789abcdef"',
            "LastModified": datetime.fromtimestamp(now_ms / 1000, UTC),
        }
        with Stubber(s3) as s3_stub, Stubber(sns) as sns_stub:
            for n in range(SCALE_SAMPLE):
                s3_stub.add_response("head_object", head)
                sns_stub.add_response(
                    "publish_batch", {"Successful": [{"Id": "0", "MessageId": f"m{n}"}], "Failed": []}
                )
            started = time.process_time()
            for first in range(0, SCALE_SAMPLE, feed_load.RELAY_BATCH):
                event = _relay_stream_event(zone.bucket, keys[first : first + feed_load.RELAY_BATCH], now_ms)
                if handler(event, BENCH)["batchItemFailures"]:
                    raise SystemExit("the relay failed a message of the stream")
            cpu = (time.process_time() - started) / SCALE_SAMPLE
            # Every stubbed answer was asked for: one HeadObject and one PublishBatch per message.
            s3_stub.assert_no_pending_responses()
            sns_stub.assert_no_pending_responses()
    return cpu, 2 * SCALE_SAMPLE / SCALE_SAMPLE


def _relay_stream_event(bucket: str, keys: list[str], sent_ms: int) -> dict[str, Any]:
    record = json.loads((ROOT / "events" / "relay-sqs-batch.json").read_text())["Records"][0]
    return {
        "Records": [
            {
                **record,
                "messageId": f"m-{index}",
                "body": json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]}),
                "attributes": {**record["attributes"], "SentTimestamp": str(sent_ms)},
            }
            for index, key in enumerate(keys)
        ]
    }


def feed_at_scale() -> None:
    """The feed of 1,000 and 5,000 accounts x 17 regions, with a 5x burst: the relay's measured CPU and calls,
    and what the formulas of expel_onboarding_cli.feed_load make of them."""
    cpu, calls = relay_at_scale()
    print(
        f"\nThe feed at scale: the relay handler fed {SCALE_SAMPLE:,} messages of an organization's stream "
        "(in process, AWS answered by botocore's Stubber)"
    )
    print(f"  CPU per message {cpu * 1000:.2f} ms; AWS calls per message {calls:.2f} (HeadObject, PublishBatch)")
    print(
        f"  formulas: expel_onboarding_cli/feed_load.py; one log file per account and region every 5 minutes, a "
        f"{feed_load.BURST}x burst, {feed_load.CALL_SECONDS * 1000:.0f} ms per AWS call (assumed), US East list prices"
    )
    header = f"  {'accounts':>8} {'mode':<20}{'files/s':>9}{'peak/s':>9}{'Lambda':>8}{'in flight':>10}"
    for region in SCALE_QUOTA_REGIONS:
        header += f"{'SNS/s vs ' + region:>24}"
    print(header + f"{'$/month':>10}")
    for accounts in SCALE_SIZES:
        for mode in (DeliveryMode.BUCKET_NOTIFICATION, DeliveryMode.TRAIL_TOPIC):
            loads = [
                feed_load.Load(accounts, SCALE_REGIONS, region, mode, cpu, calls) for region in SCALE_QUOTA_REGIONS
            ]
            load = loads[0]
            row = (
                f"  {accounts:>8,} {mode.value:<20}{load.files_per_second:>9.0f}{load.peak_files_per_second:>9.0f}"
                f"{load.peak_concurrency:>8.1f}{load.peak_in_flight:>10.0f}"
            )
            for each in loads:
                row += f"{f'{each.peak_publishes_per_second:,.0f} ({each.quota_share:.0%} of {each.quota:,})':>24}"
            print(row + f"{load.monthly_cost()['total']:>10,.0f}")
    for accounts in SCALE_SIZES:
        load = feed_load.Load(accounts, SCALE_REGIONS, "us-east-1", DeliveryMode.TRAIL_TOPIC, cpu, calls)
        print(f"  monthly cost, {accounts:,} accounts, trail-topic (US East list prices):")
        for line, dollars in load.monthly_cost().items():
            print(f"    {line:<58}{dollars:>10,.2f}")


def artifact_sizes() -> None:
    """The zipped size of what sam build made, as Lambda receives it."""
    from localaws import deploy, sam_build

    built = sam_build.build()
    print("\nArtifact sizes (sam build, zipped)")
    total = 0
    for folder in sorted(deploy.artifact_folders(built)):
        size = len(deploy.zipped(folder))
        total += size
        print(f"  {folder.name:<28}{size / 1024:9.1f} KiB")
    print(f"  {'total':<28}{total / 1024:9.1f} KiB")


def local_aws_times() -> None:
    """Whole-workflow runs against the local AWS (moto's server), started as the CLI starts them."""
    from expel_onboarding import workflow
    from localaws import deploy, server

    print("\nWhole workflow against the local AWS (moto server, real template deployed through CloudFormation)")
    with server.running():
        zone = landing_zone.seed()
        start = time.perf_counter()
        outputs = deploy.deploy(stack_parameters.parameters(zone))
        print(f"  {'deploy (build, upload, create stack, apply)':<46}{time.perf_counter() - start:6.2f} s")
        sfn = boto3.client("stepfunctions")
        for mode in ("check", "repair", "remove"):
            start = time.perf_counter()
            execution = workflow.start(
                sfn, outputs["StateMachineArn"], {"Mode": mode}, workflow.run_name(mode, "bench")
            )
            status = workflow.wait(sfn, execution, timeout_seconds=60)["status"]
            print(f"  {mode + ' run':<46}{time.perf_counter() - start:6.2f} s  {status}")


LEGEND = """make bench: what the figures mean
  calls    AWS API calls a step (or a run) makes, counted with botocore's before-call hook
  writes   the calls among them that change something (Put, Create, Delete, Subscribe, Publish, ...);
           a converged apply, check or repair must show 0
  seconds  wall time against the local emulator (moto in this process), not AWS: compare runs, not clouds;
           a repair run takes longer than a check because Verify also re-reads and simulates after it
  ratio    a handler's cold import time divided by a bare `import boto3` in a fresh interpreter
"""

if __name__ == "__main__":
    print(LEGEND)
    for generation in landing_zone.GENERATIONS:
        aws_calls_per_step(generation)
    merge_times()
    whole_workflow()
    local_aws_times()
    relay_costs(import_times())
    feed_at_scale()
    artifact_sizes()
    bench_freshness.main()
