"""What a stack update moved, as Custom::Onboarding's cleanup Delete sees it, and the physical ids."""

from __future__ import annotations

from dataclasses import replace

import pytest

from expel_onboarding import custom_resource
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import InvalidInput
from expel_onboarding.settings import Settings, StepEvent

BUCKET = "aws-controltower-logs-123456789012-us-east-1"
SETTINGS = Settings.from_environment(
    {
        "STACK_ID": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "ACCOUNT_ID": "123456789012",
        "AWS_REGION": "us-east-1",
        "PARTITION": "aws",
        "LOG_BUCKET_NAME": BUCKET,
        "CLOUDTRAIL_KEY_ARN": "",
        "KEY_POLICY_DELEGATE_ARN": "",
        "FIX_OBJECT_OWNERSHIP": "false",
        "NOTIFICATION_PREFIX": "",
        "TOPIC_ARN": "t",
        "QUEUE_ARN": "q",
        "QUEUE_URL": "u",
        "SUBSCRIPTION_ARN": "s",
        "NOTIFICATION_KEY_ARN": "k",
        "EXPEL_ROLE_NAME": "ExpelTrailAssumeRole",
        "CREATE_EXPEL_ROLE": "true",
        "EXPEL_ROLE_ARN": "arn:aws:iam::123456789012:role/ExpelTrailAssumeRole",
        "EXPEL_PRINCIPAL_ARN": "arn:aws:iam::012205512454:user/ExpelCloudService",
        "WORKBENCH_EXTERNAL_ID": "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b",
        "DELIVERY_MODE": "bucket-notification",
        "DELIVERY_REASON": "auto: ...",
        "REQUESTED_DELIVERY_MODE": "auto",
        "TRAIL_TOPIC_ARN": "",
        "RELAY_QUEUE_ARN": "r",
        "RELAY_DEAD_LETTER_ARN": "d",
        "LOG_TARGET_TRAIL": "",
    }
)


def test_a_stack_deployed_before_delivery_modes_existed_moved_nothing() -> None:
    properties = {"LogBucketName": BUCKET, "CloudTrailKeyArn": ""}
    assert custom_resource.moved(properties, SETTINGS) == {}


def test_bucket_notification_keeps_the_physical_id_stacks_already_have() -> None:
    before_modes = "ExpelOnboarding:" + BUCKET + ":"
    assert custom_resource.current_physical_id(SETTINGS).startswith(before_modes)
    assert custom_resource.physical_id(BUCKET, "", "bucket-notification") == custom_resource.current_physical_id(
        SETTINGS
    )


def test_a_switch_to_trail_topic_is_a_move_whose_cleanup_removes_the_bucket_entry() -> None:
    switched = replace(SETTINGS, delivery_mode=DeliveryMode.TRAIL_TOPIC)
    old = {"LogBucketName": BUCKET, "CloudTrailKeyArn": "", "DeliveryMode": "bucket-notification"}
    assert custom_resource.moved(old, switched) == {"DeliveryMode": "bucket-notification"}
    assert custom_resource.current_physical_id(switched) != custom_resource.current_physical_id(SETTINGS)


@pytest.mark.parametrize("mode", ["apply", "check", "repair"])
def test_an_override_is_refused_in_every_mode_but_remove(mode: str) -> None:
    with pytest.raises(InvalidInput, match="only a remove run takes one"):
        StepEvent.parse({"Mode": mode, "Override": {"LogBucketName": "another-bucket"}})


def test_a_remove_run_takes_an_override() -> None:
    step = StepEvent.parse({"Mode": "remove", "Override": {"LogBucketName": "another-bucket"}})
    assert step.override == {"LogBucketName": "another-bucket"}
