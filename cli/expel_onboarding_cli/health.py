"""Whether Workbench is receiving the logs: the feed's last event, the trail's newest log file, a verdict.

Configuration that looks right is not delivery. This reads what happened: when our topic last published
an event (CloudWatch's NumberOfMessagesPublished for the topic, Amazon SNS developer guide, "Monitoring
Amazon SNS topics using CloudWatch"), when the organization trail last wrote a log file (the bucket's own
listing), and how old the oldest message waiting on Workbench's queue is (ApproximateAgeOfOldestMessage,
Amazon SQS developer guide, "Available CloudWatch metrics for Amazon SQS"). The thresholds are the
alarms' in template.yaml; a contract test holds them equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_s3 import S3Client

# The feed-silent alarm: no event on our topic for this long means delivery stopped. An organization trail
# writes a log file per account and region with activity about every 5 minutes.
SILENCE = timedelta(minutes=20)
# The workbench-not-consuming alarm: Workbench reads within minutes when it works.
CONSUMER_MAX_AGE = timedelta(hours=1)
# The metrics' period, as SNS and SQS publish them (5 minutes).
PERIOD_SECONDS = 300
# How far back the feed's last event is looked for.
LOOKBACK = timedelta(hours=3)
# Between a log file landing and its event counted on our topic: seconds through S3, up to minutes through the
# trail's topic and the relay (CloudTrail publishes after it delivers the file), and SNS sends its metrics to
# CloudWatch every 5 minutes, so the newest event can be 5 minutes late in the metric.
IN_FLIGHT = timedelta(minutes=10)


class Feed(StrEnum):
    DELIVERING = "delivering"
    LAGGING = "lagging"
    SILENT = "silent"


@dataclass(frozen=True)
class Observed:
    now: datetime
    # Since when the stack delivers as it does now (its last create or update, or a run that just rewrote our
    # entry or subscription): older log files are not owed.
    watched_since: datetime
    last_published: datetime | None
    newest_log: datetime | None
    newest_log_key: str = ""
    oldest_waiting: timedelta | None = None


@dataclass(frozen=True)
class Verdict:
    feed: Feed
    since: datetime | None
    consuming: bool
    detail: str

    @property
    def healthy(self) -> bool:
        return self.feed is Feed.DELIVERING and self.consuming

    def to_dict(self) -> dict[str, object]:
        return {
            "Feed": self.feed.value,
            "Since": self.since.isoformat() if self.since else None,
            "Consuming": self.consuming,
            "Detail": self.detail,
        }


def _at(moment: datetime | None, none: str = "never in the last 3 hours") -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else none


def judge(seen: Observed) -> Verdict:
    """delivering, lagging or silent since when, and whether Workbench is reading its queue."""
    published, newest = seen.last_published, seen.newest_log
    facts = f"Last event on our topic: {_at(published)}. Newest log file: {_at(newest, 'none today or yesterday')}"
    facts += f" ({seen.newest_log_key})." if seen.newest_log_key else "."
    owed_since = max(published or seen.watched_since, seen.watched_since)
    since: datetime | None
    if published is not None and seen.now - published <= SILENCE:
        feed, since, why = Feed.DELIVERING, published, "Delivering."
    elif newest is not None and newest > owed_since + IN_FLIGHT:
        # Log files landed after the feed's last event: they were never delivered.
        feed, since = Feed.SILENT, published or seen.watched_since
        why = f"Silent since {_at(since)}: log files keep landing in the bucket, and no event reaches Workbench."
    elif newest is None or seen.now - newest > SILENCE + IN_FLIGHT:
        # Nothing owed, because the trail itself wrote nothing: Workbench gets nothing all the same.
        feed, since = Feed.LAGGING, newest
        since_when = _at(newest, "yesterday began")
        why = f"Lagging: the trail wrote no log file since {since_when} (CloudTrail console: the trail's status)."
    elif published is None:
        feed, since = Feed.DELIVERING, None
        deployed = _at(seen.watched_since)
        why = f"Delivering: no log file landed since this stack's deploy ({deployed}), so none is owed yet."
    else:
        feed, since, why = Feed.DELIVERING, published, "Delivering: no log file landed since the last event."
    waiting = seen.oldest_waiting
    consuming = waiting is None or waiting <= CONSUMER_MAX_AGE
    if not consuming and waiting is not None:
        why += (
            f" Workbench is not consuming: the oldest message on its queue is {waiting.total_seconds() / 60:.0f} "
            "minutes old (check the integration in Workbench, and the Expel role's access to the queue and its key)."
        )
    return Verdict(feed, since, consuming, f"{why} {facts}")


def last_published(cloudwatch: CloudWatchClient, topic_name: str, now: datetime) -> datetime | None:
    """When our topic last published, to the metric's 5 minutes (the end of the newest period with an event)."""
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/SNS",
        MetricName="NumberOfMessagesPublished",
        Dimensions=[{"Name": "TopicName", "Value": topic_name}],
        StartTime=now - LOOKBACK,
        # EndTime is exclusive (CloudWatch API reference, GetMetricStatistics): asking to the end of the period
        # now is in keeps an event of this very second, and CloudWatch answers no datapoint from the future.
        EndTime=now + timedelta(seconds=PERIOD_SECONDS),
        Period=PERIOD_SECONDS,
        Statistics=["Sum"],
    )
    busy = [point["Timestamp"] for point in answer["Datapoints"] if point.get("Sum", 0) > 0]
    return min(max(busy) + timedelta(seconds=PERIOD_SECONDS), now) if busy else None


def oldest_waiting(cloudwatch: CloudWatchClient, queue_name: str, now: datetime) -> timedelta | None:
    """The age of the oldest message on Workbench's queue, as SQS last reported it (None: no report)."""
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": queue_name}],
        StartTime=now - 3 * timedelta(seconds=PERIOD_SECONDS),
        EndTime=now + timedelta(seconds=PERIOD_SECONDS),
        Period=PERIOD_SECONDS,
        Statistics=["Maximum"],
    )
    points = sorted(answer["Datapoints"], key=lambda point: point["Timestamp"])
    return timedelta(seconds=points[-1]["Maximum"]) if points else None


def newest_log_file(
    s3: S3Client, bucket: str, folder: str, now: datetime, owner: str, days: int = 2
) -> tuple[str, datetime] | None:
    """The newest log file of the last days (today and yesterday by default) under folder (<log root><account>/
    CloudTrail/<region>/): one listing of a day's folder, which holds about 288 files (one per 5 minutes),
    newest day first."""
    for day in (now - timedelta(days=back) for back in range(days)):
        newest: tuple[str, datetime] | None = None
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{folder}{day:%Y/%m/%d}/", ExpectedBucketOwner=owner
        )
        for page in pages:
            for item in page.get("Contents", []):
                if newest is None or item["LastModified"] > newest[1]:
                    newest = (item["Key"], item["LastModified"])
        if newest is not None:
            return newest
    return None
