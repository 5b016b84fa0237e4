"""Which delivery mode a landing zone gets, from what discovery sees of the organization trail."""

from __future__ import annotations

import pytest

from expel_onboarding.delivery import DeliveryMode, choose
from expel_onboarding.errors import DeliveryModeUnavailable

LOG_ARCHIVE = "123456789012"
REGION = "us-east-1"
TRAIL = "arn:aws:cloudtrail:us-east-1:111111111111:trail/aws-controltower-BaselineCloudTrail"
CT4_TOPIC = f"arn:aws:sns:us-east-1:{LOG_ARCHIVE}:aws-controltower-CentralizedLoggingNotifications"
CT3_TOPIC = "arn:aws:sns:us-east-1:222222222222:aws-controltower-AllConfigNotifications"


def test_auto_picks_trail_topic_when_the_trails_topic_is_in_this_account() -> None:
    choice = choose(DeliveryMode.AUTO, TRAIL, CT4_TOPIC, LOG_ARCHIVE, REGION)
    assert choice.mode is DeliveryMode.TRAIL_TOPIC
    assert CT4_TOPIC in choice.reason
    assert choice.reason.startswith("auto:")


def test_auto_keeps_the_bucket_notification_when_the_topic_is_the_audit_accounts() -> None:
    choice = choose(DeliveryMode.AUTO, TRAIL, CT3_TOPIC, LOG_ARCHIVE, REGION)
    assert choice.mode is DeliveryMode.BUCKET_NOTIFICATION
    assert "222222222222" in choice.reason


def test_auto_keeps_the_bucket_notification_when_the_trail_has_no_topic() -> None:
    assert choose(DeliveryMode.AUTO, TRAIL, "", LOG_ARCHIVE, REGION).mode is DeliveryMode.BUCKET_NOTIFICATION


@pytest.mark.parametrize("topic", [CT4_TOPIC, CT3_TOPIC, ""])
def test_a_forced_bucket_notification_is_kept_whatever_the_trail_publishes_to(topic: str) -> None:
    choice = choose(DeliveryMode.BUCKET_NOTIFICATION, TRAIL, topic, LOG_ARCHIVE, REGION)
    assert choice.mode is DeliveryMode.BUCKET_NOTIFICATION
    assert "was set" in choice.reason


def test_a_forced_trail_topic_accepts_another_accounts_topic() -> None:
    assert choose(DeliveryMode.TRAIL_TOPIC, TRAIL, CT3_TOPIC, LOG_ARCHIVE, REGION).mode is DeliveryMode.TRAIL_TOPIC


def test_a_forced_trail_topic_without_a_topic_is_refused_with_the_parameter_to_set() -> None:
    with pytest.raises(DeliveryModeUnavailable) as raised:
        choose(DeliveryMode.TRAIL_TOPIC, TRAIL, "", LOG_ARCHIVE, REGION)
    assert TRAIL in raised.value.found
    assert "DeliveryMode=auto" in raised.value.fix


def test_auto_keeps_the_bucket_notification_for_a_topic_in_another_region() -> None:
    choice = choose(DeliveryMode.AUTO, TRAIL, CT4_TOPIC.replace("us-east-1", "eu-west-1"), LOG_ARCHIVE, REGION)
    assert choice.mode is DeliveryMode.BUCKET_NOTIFICATION
    assert "eu-west-1" in choice.reason


def test_a_forced_trail_topic_in_another_region_is_refused_naming_the_region_to_deploy_in() -> None:
    with pytest.raises(DeliveryModeUnavailable, match="deploy this stack in eu-west-1"):
        choose(DeliveryMode.TRAIL_TOPIC, TRAIL, CT4_TOPIC.replace("us-east-1", "eu-west-1"), LOG_ARCHIVE, REGION)
