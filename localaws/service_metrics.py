"""Gap: moto's SNS and SQS publish no CloudWatch metrics.

AWS publishes NumberOfMessagesPublished per topic (namespace AWS/SNS, dimension TopicName; Amazon SNS
developer guide, "Monitoring Amazon SNS topics using CloudWatch") and ApproximateAgeOfOldestMessage per
queue (AWS/SQS, QueueName; Amazon SQS developer guide, "Available CloudWatch metrics for Amazon SQS"),
every 5 minutes. The delivery-health alarms and check's delivery report read them. Here every message a
topic publishes is recorded as it happens, at the local clock's time (localaws.clock), and a queue's
oldest message is sampled when a test says time has passed (sample_queues), as SQS's 5-minute report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
from moto.sns.models import Topic
from moto.sqs.models import sqs_backends

from localaws import clock

_PUBLISH = Topic.publish


def record(account: str, region: str, namespace: str, name: str, dimension: tuple[str, str], value: float) -> None:
    """One datapoint of an AWS service's metric, at the local clock's time."""
    datum = MetricDatum(namespace, name, value, [{"Name": dimension[0], "Value": dimension[1]}], clock.now(), "Count")
    cloudwatch_backends[account][region].aws_metric_data.append(datum)


def _publish(self: Topic, message: str, *args: Any, **kwargs: Any) -> str:
    message_id: str = _PUBLISH(self, message, *args, **kwargs)
    region = self.arn.split(":")[3]
    record(self.account_id, region, "AWS/SNS", "NumberOfMessagesPublished", ("TopicName", self.name), 1)
    return message_id


@contextmanager
def published() -> Iterator[None]:
    """SNS's per-topic publish count, for as long as the context lasts."""
    with mock.patch.object(Topic, "publish", _publish):
        yield


def sample_queues(account: str, region: str) -> None:
    """What SQS reports every 5 minutes: each queue's oldest message age, in seconds (none when empty)."""
    now_ms = clock.now().timestamp() * 1000
    for queue in sqs_backends[account][region].queues.values():
        sent = [int(str(m.sent_timestamp)) for m in queue.messages if m.sent_timestamp is not None]
        if sent:
            age = (now_ms - min(sent)) / 1000
            record(account, region, "AWS/SQS", "ApproximateAgeOfOldestMessage", ("QueueName", queue.name), age)
