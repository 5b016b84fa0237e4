"""The feed's own commands: freshness (which accounts went dark) and replay (refill a gap).

Both read where the stack delivers from from its newest run's summary (the bucket, the folder the trail
writes its log files in, our topic), with the person's own credentials, and state their cost.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from expel_onboarding import clients, relay, workflow
from expel_onboarding.clients import RETRIES
from expel_onboarding.errors import OnboardingError, StackNotReady
from expel_onboarding.naming import owned_id
from expel_onboarding_cli import freshness, prices, replay, sessions

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_stepfunctions import SFNClient


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    fresh = commands.add_parser(
        "freshness",
        parents=[common],
        help="list every account and region whose newest CloudTrail log file is older than a threshold",
    )
    fresh.add_argument("--older-than", type=hours, default=freshness.DEFAULT_THRESHOLD, metavar="HOURS",
                       help="how old a newest log file may be, in hours (default: 3)")  # fmt: skip
    again = commands.add_parser(
        "replay", parents=[common], help="publish S3 events for log files already in the bucket, to refill a gap"
    )
    again.add_argument("--account", required=True, help="the account whose log files to replay")
    again.add_argument("--log-region", required=True, help="the region those log files are of")
    again.add_argument("--start", required=True, type=moment, help="when the gap began, such as 2026-12-07T10:00Z")
    again.add_argument("--end", required=True, type=moment, help="when it ended (log files that landed before)")
    again.add_argument(
        "--dry-run", action="store_true", help="count the files and say what it would cost; publish nothing"
    )


def hours(value: str) -> timedelta:
    return timedelta(hours=float(value))


def moment(value: str) -> datetime:
    """An ISO 8601 time, in UTC (the trail's day folders are UTC days); without an offset it is UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time such as 2026-12-07T10:00Z") from exc
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def delivering_from(cloudformation: CloudFormationClient, sfn: SFNClient, stack_name: str) -> dict[str, Any]:
    """The newest run's summary that knows where the trail writes: bucket, log root, topic, stack id."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    machine = outputs.get("StateMachineArn", "")
    executions = sfn.list_executions(stateMachineArn=machine)["executions"] if machine else []
    for execution in sorted(executions, key=lambda e: e["startDate"], reverse=True):
        summary = workflow.summary_from_history(list(workflow.history(sfn, execution["executionArn"])))
        if summary and summary.get("LogRoot") and summary.get("Bucket"):
            return {**summary, "StackId": stack["StackId"], "ReplayRoleArn": outputs.get("ReplayRoleArn", "")}
    raise StackNotReady(
        f"No run of {stack_name} says where the trail writes its log files yet: run expel-onboarding check first."
    )


def run(arguments: argparse.Namespace, cloudformation: CloudFormationClient, sfn: SFNClient, out: TextIO) -> int:
    feed = delivering_from(cloudformation, sfn, arguments.stack_name)
    session = sessions.session(arguments.profile, arguments.region)
    s3 = clients.watched(session.client("s3", endpoint_url=arguments.endpoint_url, config=RETRIES))
    owner = feed["StackId"].split(":")[4]
    now = datetime.now(UTC)
    if arguments.command == "freshness":
        found = freshness.report(s3, feed["Bucket"], feed["LogRoot"], now, owner, arguments.older_than)
        stale = [
            {"Account": f.account, "Region": f.region, "Newest": f.newest.isoformat() if f.newest else None}
            for f in found.stale
        ]
        shown = {
            "Stale": stale,
            "Folders": len(found.folders),
            "ListRequests": found.list_requests,
            "Dollars": round(found.dollars, 4),
        }
        if arguments.output == "json":
            print(json.dumps(shown, indent=2), file=out)
        else:
            print_freshness(found, now, arguments.older_than, out)
        return 3 if found.stale else 0
    if arguments.end <= arguments.start:
        raise OnboardingError(
            f"--end {arguments.end:%Y-%m-%d %H:%M} UTC is not after --start {arguments.start:%Y-%m-%d %H:%M} UTC.",
            "give the time the gap began as --start and the time it ended as --end.",
        )
    window = replay.Window(arguments.account, arguments.log_region, arguments.start, arguments.end)
    files, listed = replay.log_files(s3, feed["Bucket"], feed["LogRoot"], window, owner)
    per_second = replay.rate(str(feed["Region"]))
    plan = {
        "Files": len(files),
        "ListRequests": listed,
        "PublishRequests": -(-len(files) // relay.MAX_BATCH_ENTRIES),
        "MessagesPerSecond": per_second,
        "Dollars": round(
            listed / 1000 * prices.S3_LIST_PER_1000
            + -(-len(files) // relay.MAX_BATCH_ENTRIES) / 1_000_000 * prices.SNS_PUBLISH_PER_MILLION,
            4,
        ),
        "Warning": "Files of this window that were delivered already reach Workbench a second time.",
    }
    published = 0
    if not arguments.dry_run:
        partition = feed["StackId"].split(":")[1]
        target = relay.Target(
            feed["Bucket"], owner, str(feed["Region"]), partition, feed["TopicArn"], owned_id(feed["StackId"])
        )
        publisher = replay.publisher(session, str(feed["ReplayRoleArn"]), arguments.endpoint_url)
        sns = clients.watched(publisher.client("sns", endpoint_url=arguments.endpoint_url, config=RETRIES))
        published = replay.publish(sns, feed["TopicArn"], replay.messages(target, files), per_second)
    if arguments.output == "json":
        print(json.dumps({**plan, "Published": published, "DryRun": arguments.dry_run}, indent=2), file=out)
    else:
        verb = "Would publish" if arguments.dry_run else "Published"
        print(
            f"{verb} {published if not arguments.dry_run else len(files)} S3 events for the log files of account "
            f"{window.account} in {window.region} that landed from {window.start:%Y-%m-%d %H:%M} to "
            f"{window.end:%Y-%m-%d %H:%M} UTC, at {per_second:.0f} a second at most (half the default SNS publish "
            f"quota of {feed['Region']}); {listed} LIST and {plan['PublishRequests']} PublishBatch requests "
            f"(${plan['Dollars']:.4f} at list prices). {plan['Warning']}",
            file=out,
        )
    return 0


def print_freshness(found: freshness.Report, now: datetime, threshold: timedelta, out: TextIO) -> None:
    print(
        f"{len(found.stale)} of {len(found.folders)} account and region folders have no log file newer than "
        f"{threshold.total_seconds() / 3600:g} hours ({found.list_requests} LIST requests, ${found.dollars:.4f} at "
        "S3's list price in us-east-1).",
        file=out,
    )
    if found.stale:
        print(f"\n{'Account':<14}{'Region':<18}Newest log file", file=out)
        for folder in found.stale:
            age = folder.age(now)
            when = (
                f"{folder.newest:%Y-%m-%d %H:%M} UTC ({age.total_seconds() / 3600:.1f} h ago)"
                if age and folder.newest
                else "none today or yesterday"
            )
            print(f"{folder.account:<14}{folder.region:<18}{when}", file=out)
