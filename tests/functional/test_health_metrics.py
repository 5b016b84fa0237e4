"""The delivery verdict's metric reads against CloudWatch (the local AWS's), at the edges of its time window."""

from __future__ import annotations

from datetime import UTC, datetime

from expel_onboarding_cli import health
from localaws import clients


def test_an_event_of_this_very_second_counts_as_the_last_published() -> None:
    # CloudWatch's EndTime is exclusive (and the local AWS's moto drops the current second's data before it):
    # the health query asks to the end of the period now is in.
    topic = clients.sns().create_topic(Name="ours")["TopicArn"]
    clients.sns().publish(TopicArn=topic, Message="{}")
    now = datetime.now(UTC)
    published = health.last_published(clients.cloudwatch(), "ours", now)
    assert published is not None
    assert published <= now
