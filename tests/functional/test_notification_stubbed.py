"""What moto does not emulate, proven with botocore's Stubber: EventBridge, 409, races, denies."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from expel_onboarding import notification
from expel_onboarding.errors import AwsThrottled, DestinationValidationFailed, NotYetPropagated
from expel_onboarding.notification import Target
from expel_onboarding.reports import Mode, Status
from tests.support.stubbed import explicit_deny, stubbable_client

TARGET = Target(
    bucket="aws-controltower-logs-222233334444-us-east-1",
    bucket_owner="222233334444",
    entry_id="ExpelOnboardingA1B2C3D4E5F6",
    topic_arn="arn:aws:sns:us-east-1:222233334444:expel-cloudtrail-objects",
    prefix="AWSLogs/",
)
READ = {"Bucket": TARGET.bucket, "ExpectedBucketOwner": TARGET.bucket_owner}
# As S3 returns it: capitalized rule names, EventBridge on, entries of three other teams.
FOREIGN: dict[str, Any] = {
    "QueueConfigurations": [
        {
            "Id": "security-lake",
            "QueueArn": "arn:aws:sqs:us-east-1:222233334444:lake",
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "reports/"}]}},
        }
    ],
    "LambdaFunctionConfigurations": [
        {
            "Id": "indexer",
            "LambdaFunctionArn": "arn:aws:lambda:us-east-1:222233334444:function:indexer",
            "Events": ["s3:ObjectRemoved:*"],
        }
    ],
    "EventBridgeConfiguration": {},
}
MERGED = notification.merge(FOREIGN, notification.our_entry(TARGET))


@pytest.fixture
def s3() -> Any:
    return stubbable_client("s3")


def expect_read(stub: Stubber, config: dict[str, Any]) -> None:
    stub.add_response("get_bucket_notification_configuration", copy.deepcopy(config), READ)


def expect_write(stub: Stubber, config: dict[str, Any]) -> None:
    stub.add_response(
        "put_bucket_notification_configuration", {}, {**READ, "NotificationConfiguration": copy.deepcopy(config)}
    )


def test_event_bridge_configuration_and_every_foreign_entry_are_written_back_exactly(s3: Any) -> None:
    with Stubber(s3) as stub:
        expect_read(stub, FOREIGN)
        expect_write(stub, {**FOREIGN, "TopicConfigurations": [notification.our_entry(TARGET)]})
        expect_read(stub, MERGED)
        report = notification.converge(s3, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.CHANGED


def test_remove_keeps_event_bridge_configuration(s3: Any) -> None:
    with Stubber(s3) as stub:
        expect_read(stub, MERGED)
        expect_write(stub, FOREIGN)
        expect_read(stub, FOREIGN)
        assert notification.converge(s3, TARGET, Mode.REMOVE).status is Status.CHANGED
        stub.assert_no_pending_responses()


def test_operation_aborted_is_retried_with_jitter(s3: Any) -> None:
    pauses: list[float] = []
    with Stubber(s3) as stub:
        expect_read(stub, FOREIGN)
        stub.add_client_error(
            "put_bucket_notification_configuration",
            service_error_code="OperationAborted",
            service_message="A conflicting conditional operation is currently in progress against this resource.",
            http_status_code=409,
        )
        expect_read(stub, FOREIGN)
        expect_write(stub, MERGED)
        expect_read(stub, MERGED)
        report = notification.converge(s3, TARGET, Mode.APPLY, sleep=pauses.append)
        stub.assert_no_pending_responses()
    assert report.status is Status.CHANGED
    assert len(pauses) == 1
    assert 0 <= pauses[0] <= notification.BACKOFF_BASE_SECONDS


def test_a_concurrent_writers_entry_is_merged_again_not_overwritten(s3: Any) -> None:
    # Another team wrote between our read and our write: their entry is in, ours is lost.
    theirs = {
        "Id": "late-team",
        "TopicArn": "arn:aws:sns:us-east-1:222233334444:late",
        "Events": ["s3:ObjectRestore:*"],
    }
    raced = {**FOREIGN, "TopicConfigurations": [theirs]}
    with Stubber(s3) as stub:
        expect_read(stub, FOREIGN)
        expect_write(stub, MERGED)
        expect_read(stub, raced)
        expect_write(stub, notification.merge(raced, notification.our_entry(TARGET)))
        expect_read(stub, notification.merge(raced, notification.our_entry(TARGET)))
        report = notification.converge(s3, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.CHANGED


TRAIL_TOPIC = "arn:aws:sns:us-east-1:222233334444:aws-controltower-AllConfigNotifications"


@pytest.mark.parametrize(
    ("trail_topic", "fixes"),
    [
        # 4.0: CT.S3.PV.8, and the trail's own topic carries the same events.
        (TRAIL_TOPIC, ["CT.S3.PV.8", TRAIL_TOPIC, "DeliveryMode=auto (or trail-topic)"]),
        # 3.x when the stack was deployed: an upgrade since (read the trail again), or the organization's own deny.
        ("", ["LogTargetRevision=<a new value>", "service control policy", "then run expel-onboarding repair"]),
    ],
    ids=["landing-zone-4.0", "landing-zone-3.x"],
)
def test_an_explicit_deny_is_action_required_with_the_fix_of_its_generation_and_never_retried(
    s3: Any, trail_topic: str, fixes: list[str]
) -> None:
    target = dataclasses.replace(TARGET, trail_topic_arn=trail_topic)
    with Stubber(s3) as stub:
        expect_read(stub, FOREIGN)
        stub.add_client_error(
            "put_bucket_notification_configuration",
            **explicit_deny("s3:PutBucketNotification", f"arn:aws:s3:::{target.bucket}"),
        )
        report = notification.converge(s3, target, Mode.APPLY, sleep=lambda _: pytest.fail("must not retry"))
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "s3:PutBucketNotification" in report.detail
    assert target.bucket in report.detail
    for fix in fixes:
        assert fix in report.detail
    assert report.data["ExplicitDeny"] is True


def test_a_denied_removal_leaves_our_entry_and_prints_the_exact_command_without_it(s3: Any) -> None:
    with_ours = notification.merge(FOREIGN, notification.our_entry(TARGET))
    with Stubber(s3) as stub:
        expect_read(stub, with_ours)
        stub.add_client_error(
            "put_bucket_notification_configuration",
            **explicit_deny("s3:PutBucketNotification", f"arn:aws:s3:::{TARGET.bucket}"),
        )
        report = notification.converge(s3, TARGET, Mode.REMOVE, sleep=lambda _: pytest.fail("must not retry"))
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    command = report.detail.split("with: ", 1)[1]
    assert command.startswith(f"aws s3api put-bucket-notification-configuration --bucket {TARGET.bucket} ")
    written = json.loads(command.split("--notification-configuration ", 1)[1].strip("'"))
    assert written == FOREIGN


def test_throttling_beyond_botocores_retries_is_a_transient_error(s3: Any) -> None:
    with Stubber(s3) as stub:
        stub.add_client_error(
            "get_bucket_notification_configuration", service_error_code="SlowDown", http_status_code=503
        )
        with pytest.raises(AwsThrottled, match="throttled"):
            notification.converge(s3, TARGET, Mode.APPLY)


def test_a_broken_foreign_destination_is_named_as_the_blocker(s3: Any) -> None:
    with Stubber(s3) as stub:
        expect_read(stub, FOREIGN)
        stub.add_client_error(
            "put_bucket_notification_configuration",
            service_error_code="InvalidArgument",
            service_message="Unable to validate the following destination configurations",
            http_status_code=400,
        )
        with pytest.raises(DestinationValidationFailed, match="another team"):
            notification.converge(s3, TARGET, Mode.APPLY)


def test_overlap_is_refused_without_any_write(s3: Any) -> None:
    unfiltered = Target(**{**TARGET.__dict__, "prefix": ""})
    with Stubber(s3) as stub:
        expect_read(stub, FOREIGN)
        with pytest.raises(Exception, match="'security-lake'") as raised:
            notification.converge(s3, unfiltered, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert type(raised.value).__name__ == "NotificationOverlap"


def test_s3_failing_to_validate_only_our_new_topic_is_propagation_and_retried_by_the_workflow(s3: Any) -> None:
    with Stubber(s3) as stub:
        expect_read(stub, FOREIGN)
        stub.add_client_error(
            "put_bucket_notification_configuration",
            service_error_code="InvalidArgument",
            service_message="Unable to validate the following destination configurations",
            http_status_code=400,
            # S3 names each destination it could not validate beside the message.
            service_error_meta={"ArgumentName1": TARGET.topic_arn},
        )
        with pytest.raises(NotYetPropagated, match="our own topic"):
            notification.converge(s3, TARGET, Mode.APPLY)


def test_s3_failing_to_validate_another_teams_destination_is_not_retried(s3: Any) -> None:
    with Stubber(s3) as stub:
        expect_read(stub, FOREIGN)
        stub.add_client_error(
            "put_bucket_notification_configuration",
            service_error_code="InvalidArgument",
            service_message="Unable to validate the following destination configurations",
            http_status_code=400,
            service_error_meta={"ArgumentName1": "arn:aws:sqs:us-east-1:111122223333:gone"},
        )
        with pytest.raises(DestinationValidationFailed):
            notification.converge(s3, TARGET, Mode.APPLY)
