"""Gap: moto's SNS and SQS publish no CloudWatch metrics.

AWS publishes NumberOfMessagesPublished per topic (namespace AWS/SNS, dimension TopicName; Amazon SNS
developer guide, "Monitoring Amazon SNS topics using CloudWatch") and ApproximateAgeOfOldestMessage per
queue (AWS/SQS, QueueName; Amazon SQS developer guide, "Available CloudWatch metrics for Amazon SQS"),
every 5 minutes. The delivery-health alarms and check's delivery report read them. Here every message a
topic publishes is recorded as it happens, at the local clock's time (localaws.clock), and a queue's
oldest message is sampled when a test says time has passed (sample_queues), as SQS's 5-minute report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
from moto.sns.models import Topic
from moto.sqs.models import sqs_backends

from localaws import clock, replacements

_PUBLISH = Topic.publish


def record(account: str, region: str, namespace: str, name: str, dimension: tuple[str, str], value: float) -> None:
    """One datapoint of a metric, at the local clock's time."""
    # Naive UTC, as moto keeps the datapoints it is sent (and compares them with a request's times).
    when = clock.now().replace(tzinfo=None)
    datum = MetricDatum(namespace, name, value, [{"Name": dimension[0], "Value": dimension[1]}], when, "Count")
    # metric_data, not aws_metric_data: moto computes that one afresh (S3 storage metrics) at every read.
    cloudwatch_backends[account][region].metric_data.append(datum)


def _publish(self: Topic, message: str, *args: Any, **kwargs: Any) -> str:
    message_id: str = _PUBLISH(self, message, *args, **kwargs)
    region = self.arn.split(":")[3]
    record(self.account_id, region, "AWS/SNS", "NumberOfMessagesPublished", ("TopicName", self.name), 1)
    return message_id


@contextmanager
def published() -> Iterator[None]:
    """SNS's per-topic publish count, for as long as the context lasts."""
    with replacements.applied("sns-publish-metrics"):
        yield


# When the local clock first saw each message on a queue: moto stamps messages with the real time, which the
# local clock runs ahead of once a test moves it forward.
_first_seen: dict[str, datetime] = {}


def sample_queues(account: str, region: str) -> None:
    """What SQS reports every 5 minutes: each queue's oldest message age, in seconds (none when empty). Call it
    after every move of the local clock, as SQS would report."""
    now = clock.now()
    for queue in sqs_backends[account][region].queues.values():
        waiting = [_first_seen.setdefault(message.id, now) for message in queue.messages]
        if waiting:
            age = (now - min(waiting)).total_seconds()
            record(account, region, "AWS/SQS", "ApproximateAgeOfOldestMessage", ("QueueName", queue.name), age)


def record_embedded(account: str, region: str, logged: str) -> None:
    """Gap: CloudWatch turns a function's embedded metric format lines into metrics (CloudWatch user guide,
    "Embedding metrics within logs"); moto's Lambda has no logs to read them from. A function's captured
    output is read here, line by line, for the metrics Powertools' Metrics writes (one dimension each)."""
    for line in logged.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"].get("CloudWatchMetrics", []):
            dimension = next((names[0] for names in directive.get("Dimensions", []) if names), "")
            for metric in directive.get("Metrics", []):
                value = document.get(metric["Name"], [])
                values = value if isinstance(value, list) else [value]
                for one in values:
                    pair = (dimension, str(document.get(dimension, "")))
                    record(account, region, directive["Namespace"], metric["Name"], pair, float(one))
