"""Landing zone 4.0: the real workflow on a zone whose bucket CT.S3.PV.8 guards, delivering through the relay."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from localaws import clients, control_tower, deployment, landing_zone, stack_resources, trail_deliveries
from localaws.aws_calls import AwsCalls

GUARDED_WRITES = ("s3:PutBucketNotificationConfiguration", "s3:PutBucketOwnershipControls")


@pytest.fixture
def zone() -> landing_zone.LandingZone:
    return landing_zone.seed("4.0")


@pytest.fixture
def delivered(stack_environment: dict[str, str], workflow: deployment.Workflow) -> deployment.Workflow:
    """The relay deployed beside the steps, triggered by its queue as the SQS event source mapping does."""
    relay = deployment.create_function(
        "RelayFunction", "arn:aws:iam::123456789012:role/expel-functions", stack_environment
    )
    clients.lambda_().create_event_source_mapping(
        EventSourceArn=stack_environment["RELAY_QUEUE_ARN"], FunctionName=relay, BatchSize=10
    )
    return workflow


def summary_of(workflow: deployment.Workflow, mode: str) -> dict[str, Any]:
    description = deployment.run(workflow, {"Mode": mode})
    assert description["status"] == "SUCCEEDED", description.get("cause")
    parsed: dict[str, Any] = json.loads(description["output"])
    return parsed


def statuses(summary: dict[str, Any]) -> dict[str, str]:
    return {step["Name"]: step["Status"] for step in summary["Steps"]}


def test_auto_picks_trail_topic_and_never_attempts_a_guarded_bucket_write(
    zone: landing_zone.LandingZone, stack_environment: dict[str, str], workflow: deployment.Workflow
) -> None:
    calls = AwsCalls().start()
    summary = summary_of(workflow, "apply")
    assert summary["DeliveryMode"] == "trail-topic"
    assert zone.trail_topic_arn in summary["DeliveryReason"]
    assert statuses(summary) == {
        "Discover": "OK",
        "Ownership": "OK",
        "KeyPolicy": "CHANGED",
        "Notification": "CHANGED",
        "Verify": "OK",
    }
    assert [call for call in calls.made if call in GUARDED_WRITES] == []
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications


def test_the_relay_is_subscribed_with_raw_delivery_and_its_dead_letter_queue(
    zone: landing_zone.LandingZone, stack_environment: dict[str, str], workflow: deployment.Workflow
) -> None:
    summary_of(workflow, "apply")
    sns = clients.sns()
    (ours,) = [
        s
        for s in sns.list_subscriptions_by_topic(TopicArn=zone.trail_topic_arn)["Subscriptions"]
        if s["Endpoint"] == stack_environment["RELAY_QUEUE_ARN"]
    ]
    attributes = sns.get_subscription_attributes(SubscriptionArn=ours["SubscriptionArn"])["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"] == stack_environment["RELAY_DEAD_LETTER_ARN"]


def test_check_after_apply_is_all_ok_and_writes_nothing(workflow: deployment.Workflow) -> None:
    summary_of(workflow, "apply")
    calls = AwsCalls().start()
    summary = summary_of(workflow, "check")
    assert set(statuses(summary).values()) == {"OK"}
    steps = [call for call in calls.made if not call.startswith(("stepfunctions:", "lambda:"))]
    assert [call for call in steps if call in calls.writes] == []
    # Discover 2, Ownership 1, KeyPolicy 2, Notification 3 (the subscription, its attributes, the bucket's
    # notifications for a leftover entry), Verify 3 (the policy simulator).
    assert len(steps) == 11, steps


def test_a_log_file_arrives_on_workbenchs_queue_as_a_raw_s3_event(
    zone: landing_zone.LandingZone, stack_environment: dict[str, str], delivered: deployment.Workflow
) -> None:
    summary_of(delivered, "apply")
    key = trail_deliveries.deliver_log_file(zone)
    messages = clients.sqs().receive_message(QueueUrl=stack_environment["QUEUE_URL"], MaxNumberOfMessages=10)
    bodies = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    records = [r for body in bodies for r in body.get("Records", [])]
    (record,) = records
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == zone.bucket
    assert unquote_plus(record["s3"]["object"]["key"]) == key
    assert record["s3"]["object"]["size"] > 0


def test_remove_unsubscribes_and_leaves_the_bucket_untouched(
    zone: landing_zone.LandingZone, stack_environment: dict[str, str], workflow: deployment.Workflow
) -> None:
    summary_of(workflow, "apply")
    calls = AwsCalls().start()
    summary = summary_of(workflow, "remove")
    assert statuses(summary)["Notification"] == "CHANGED"
    endpoints = [
        s["Endpoint"] for s in clients.sns().list_subscriptions_by_topic(TopicArn=zone.trail_topic_arn)["Subscriptions"]
    ]
    assert stack_environment["RELAY_QUEUE_ARN"] not in endpoints
    assert [call for call in calls.made if call in GUARDED_WRITES] == []
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications


def test_forcing_bucket_notification_on_4_0_is_action_required_naming_trail_topic_not_a_failure(
    zone: landing_zone.LandingZone, stack_environment: dict[str, str]
) -> None:
    forced = {
        **stack_environment,
        "DELIVERY_MODE": "bucket-notification",
        "REQUESTED_DELIVERY_MODE": "bucket-notification",
    }
    workflow = deployment.deploy(forced, name="forced")
    summary = summary_of(workflow, "apply")
    assert summary["Failed"] is False
    assert statuses(summary)["Notification"] == "ACTION_REQUIRED"
    # No events can come, so the run took back the key statement it had added: nothing is left half-made.
    assert statuses(summary)["UndoKeyPolicy"] == "CHANGED"
    assert "Verify" not in statuses(summary)
    notification = next(step for step in summary["Steps"] if step["Name"] == "Notification")
    assert "DeliveryMode=auto (or trail-topic)" in notification["Detail"]
    assert "explicit deny" in notification["Detail"]
    assert summary["ActionRequired"] == ["Notification"]
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy


# --- A zone onboarded on 3.x, then upgraded to 4.0 --------------------------------------------------


@pytest.fixture
def upgraded() -> tuple[landing_zone.LandingZone, dict[str, str], deployment.Workflow]:
    """Deployed and applied on 3.x (our entry on the bucket), then the landing zone is upgraded."""
    zone = landing_zone.seed("3")
    environment = stack_resources.deploy_stack_resources(zone)
    workflow = deployment.deploy(environment, name="upgraded")
    assert statuses(summary_of(workflow, "apply"))["Notification"] == "CHANGED"
    return landing_zone.upgrade(zone), environment, workflow


def test_after_the_upgrade_check_names_the_trails_new_topic_and_never_advises_a_second_delivery(
    upgraded: tuple[landing_zone.LandingZone, dict[str, str], deployment.Workflow],
) -> None:
    zone, _, workflow = upgraded
    summary = summary_of(workflow, "check")
    assert statuses(summary) == {
        "Discover": "ACTION_REQUIRED",
        "Ownership": "OK",
        "KeyPolicy": "OK",
        "Notification": "OK",
        "Verify": "OK",
    }
    discover = next(step for step in summary["Steps"] if step["Name"] == "Discover")
    assert f"SNS topic: {control_tower.trail_topic('3')} -> {zone.trail_topic_arn}" in discover["Detail"]
    assert "would deliver every file twice" in discover["Detail"]
    assert "DeliveryMode=trail-topic" not in discover["Detail"]
    assert discover["Detail"].endswith("sam deploy --parameter-overrides LogTargetRevision=2")
    # The reason shown beside the mode is never the stale one alone.
    assert "a trail that has changed since" in summary["DeliveryReason"]


def test_after_the_upgrade_repair_of_a_lost_entry_is_action_required_naming_trail_topic(
    upgraded: tuple[landing_zone.LandingZone, dict[str, str], deployment.Workflow],
) -> None:
    zone, _, workflow = upgraded
    # Only Control Tower's own role may still write the bucket's notifications (the control exempts it).
    drop_our_entry(zone.bucket, control_tower_execution().client("s3"))
    summary = summary_of(workflow, "repair")
    assert summary["Failed"] is False
    assert statuses(summary)["Notification"] == "ACTION_REQUIRED"
    detail = next(step["Detail"] for step in summary["Steps"] if step["Name"] == "Notification")
    assert "DeliveryMode=auto (or trail-topic)" in detail


def test_after_the_upgrade_an_entry_of_ours_that_changed_is_adopted_never_doubled_by_the_relay(
    upgraded: tuple[landing_zone.LandingZone, dict[str, str], deployment.Workflow],
) -> None:
    zone, _, workflow = upgraded
    # Control Tower's own role widens our entry's filter: the control lets no role of ours put it back.
    config = landing_zone.notifications_of(zone.bucket)
    for entry in config["TopicConfigurations"]:
        if entry["Id"].startswith("ExpelOnboarding"):
            entry["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{zone.key_prefix}/"}]}}
    control_tower_execution().client("s3").put_bucket_notification_configuration(
        Bucket=zone.bucket, NotificationConfiguration=config
    )
    summary = summary_of(workflow, "repair")
    detail = next(step["Detail"] for step in summary["Steps"] if step["Name"] == "Notification")
    assert statuses(summary)["Notification"] == "ACTION_REQUIRED"
    assert "Make the stack adopt it as it is" in detail
    assert "trail-topic" not in detail


def test_after_the_upgrade_remove_completes_leaves_our_entry_and_prints_the_command(
    upgraded: tuple[landing_zone.LandingZone, dict[str, str], deployment.Workflow],
) -> None:
    zone, _, workflow = upgraded
    summary = summary_of(workflow, "remove")
    assert summary["Failed"] is False
    assert statuses(summary)["Notification"] == "ACTION_REQUIRED"
    assert statuses(summary)["KeyPolicy"] == "CHANGED"
    detail = next(step["Detail"] for step in summary["Steps"] if step["Name"] == "Notification")
    command = detail.split("with: ", 1)[1]
    assert command.startswith(f"aws s3api put-bucket-notification-configuration --bucket {zone.bucket} ")
    assert json.loads(command.split("--notification-configuration ", 1)[1].strip("'")) == zone.foreign_notifications
    # What stays, what it does once our topic is gone, and who may remove it.
    assert "from then on S3 delivers its events nowhere" in detail
    assert "fails S3's destination validation" in detail
    assert "your Control Tower administrators" in detail
    # The entry stays: the control denies its removal to every role of ours.
    assert landing_zone.notifications_of(zone.bucket) != zone.foreign_notifications


def control_tower_execution() -> boto3.Session:
    """A session of the one role CT.S3.PV.8 exempts, as Control Tower itself would use it."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{landing_zone.MANAGEMENT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = clients.iam().create_role(RoleName="AWSControlTowerExecution", AssumeRolePolicyDocument=json.dumps(trust))
    # The role trusts the management account, so Control Tower assumes it from there.
    with landing_zone.as_account(landing_zone.MANAGEMENT):
        sts = clients.sts()
        credentials = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="ct")["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=landing_zone.REGION,
    )


def drop_our_entry(bucket: str, s3: Any) -> None:
    config = landing_zone.notifications_of(bucket)
    config["TopicConfigurations"] = [
        entry for entry in config.get("TopicConfigurations", []) if not entry["Id"].startswith("ExpelOnboarding")
    ]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
