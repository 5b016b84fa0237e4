"""check and repair report delivery, not only configuration: the verdict of health.judge for a deployed
stack, read with the person's own credentials after the run (the schedule has the alarms for the same)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from expel_onboarding_cli import health

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_s3 import S3Client


def watched_since(cloudformation: CloudFormationClient, stack_name: str) -> datetime:
    """The stack's last create or update: a log file older than that was not the stack's to deliver."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return stack.get("LastUpdatedTime") or stack["CreationTime"]


def verdict(
    cloudformation: CloudFormationClient,
    cloudwatch: CloudWatchClient,
    s3: S3Client,
    stack_name: str,
    summary: dict[str, Any],
    now: datetime | None = None,
) -> health.Verdict | None:
    """The delivery verdict for a run's summary; None when the run did not get as far as the trail."""
    root, bucket = str(summary.get("LogRoot") or ""), str(summary.get("Bucket") or "")
    topic_arn, queue_url = str(summary.get("TopicArn") or ""), str(summary.get("SqsUrl") or "")
    management, region = str(summary.get("ManagementAccountId") or ""), str(summary.get("Region") or "")
    if not (root and bucket and topic_arn and queue_url and management):
        return None
    now = now or datetime.now(UTC)
    # The management account's own files in the home region: Control Tower's calls there never stop.
    folder = f"{root}{management}/CloudTrail/{region}/"
    newest = health.newest_log_file(s3, bucket, folder, now, topic_arn.split(":")[4])
    since = watched_since(cloudformation, stack_name)
    if any(step["Name"] == "Notification" and step["Status"] == "CHANGED" for step in summary.get("Steps", [])):
        # This run just put our entry or subscription back: what landed before it was not ours to deliver.
        since = max(since, now)
    seen = health.Observed(
        now=now,
        watched_since=since,
        last_published=health.last_published(cloudwatch, topic_arn.rsplit(":", 1)[1], now),
        newest_log=newest[1] if newest else None,
        newest_log_key=newest[0] if newest else "",
        oldest_waiting=health.oldest_waiting(cloudwatch, queue_url.rsplit("/", 1)[1], now),
    )
    return health.judge(seen)
