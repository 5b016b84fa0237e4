"""Steps 5 and 6 of Expel's Control Tower guide: the queue's settings and the raw-delivery subscription."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.contract import (
    GUIDE_QUEUE_SETTINGS,
    queue_violations,
    resources_of_type,
    subscription_violations,
)


def queue_properties(template: dict[str, Any]) -> dict[str, Any]:
    """Workbench's queue; the relay's two queues are internal to trail-topic delivery."""
    queue: dict[str, Any] = resources_of_type(template, "AWS::SQS::Queue")["NotificationQueue"]
    return queue["Properties"]


@pytest.mark.parametrize(("setting", "guide_value"), GUIDE_QUEUE_SETTINGS.items())
def test_queue_setting_is_the_guides(template: dict[str, Any], setting: str, guide_value: int) -> None:
    assert queue_properties(template)[setting] == guide_value


def test_queue_is_a_standard_queue(template: dict[str, Any]) -> None:
    assert "FifoQueue" not in queue_properties(template)


def test_queue_is_encrypted_with_the_notification_key(template: dict[str, Any]) -> None:
    assert queue_properties(template)["KmsMasterKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}


def test_topic_is_encrypted_with_the_notification_key(template: dict[str, Any]) -> None:
    topic = template["Resources"]["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}


def test_notification_key_rotates(template: dict[str, Any]) -> None:
    assert template["Resources"]["NotificationKey"]["Properties"]["EnableKeyRotation"] is True


def test_queue_meets_the_whole_guide_contract(template: dict[str, Any]) -> None:
    assert queue_violations(template) == []


def test_subscription_delivers_raw_messages_from_the_topic_to_the_queue(template: dict[str, Any]) -> None:
    assert subscription_violations(template) == []


def test_subscription_waits_for_the_queue_policy(template: dict[str, Any]) -> None:
    # Otherwise SNS can deliver before the queue accepts the topic, and the first events are lost.
    assert template["Resources"]["NotificationSubscription"]["DependsOn"] == "NotificationQueuePolicy"
