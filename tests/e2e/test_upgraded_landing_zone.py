"""End to end: onboarded on a 3.x landing zone, which is then upgraded to 4.0. Tests run in order.

Our bucket entry, written before the upgrade, keeps firing, and CT.S3.PV.8 forbids changing or removing
it: the stack stays on it, never adds the relay beside it (every log file would arrive twice), and its
delete completes, saying what stays behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import pytest

from localaws import clients, control_tower, demo, deploy, landing_zone, stack_parameters, trail_deliveries, workbench
from tests.support.local_aws import local_aws


@dataclass
class Upgraded:
    endpoint: str
    zone: landing_zone.LandingZone
    parameters: dict[str, str]
    queue_url: str
    workbench: Any  # SQS as Workbench reads it (localaws.workbench)
    notifications_onboarded: dict
    key_policy_before: dict


@pytest.fixture(scope="module")
def upgraded() -> Iterator[Upgraded]:
    with local_aws() as endpoint:
        zone = landing_zone.seed("3")
        key_policy = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
        parameters = stack_parameters.parameters(zone)
        outputs = deploy.deploy(parameters)
        assert outputs["DeliveryMode"].startswith("bucket-notification")
        onboarded = landing_zone.notifications_of(zone.bucket)
        reader = workbench.sqs(outputs["RoleArn"])
        yield Upgraded(
            endpoint, landing_zone.upgrade(zone), parameters, outputs["SqsUrl"], reader, onboarded, key_policy
        )


def events_for(upgraded: Upgraded, key: str) -> int:
    """How many S3 events for key reached Workbench's queue (and takes them off it)."""
    sqs, queue_url, found = upgraded.workbench, upgraded.queue_url, 0
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            records = json.loads(message["Body"]).get("Records", [])
            found += sum(1 for record in records if unquote_plus(record["s3"]["object"]["key"]) == key)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_after_the_upgrade_check_names_the_trails_new_topic_and_the_command_that_records_it(upgraded: Upgraded) -> None:
    code, printed = demo.run_cli("check", endpoint=upgraded.endpoint)
    assert code == 3, printed
    flat = " ".join(printed.split())
    assert f"SNS topic: {control_tower.trail_topic('3')} -> {upgraded.zone.trail_topic_arn}" in flat
    assert "sam deploy --parameter-overrides LogTargetRevision=2" in flat
    assert "DeliveryMode=trail-topic" not in flat


def test_reading_the_trail_again_keeps_the_bucket_entry_and_says_why(upgraded: Upgraded) -> None:
    outputs = deploy.deploy({**upgraded.parameters, "LogTargetRevision": "2"})
    assert outputs["DeliveryMode"].startswith("bucket-notification: auto: this stack's entry on"), outputs
    assert "would deliver every file twice" in outputs["DeliveryMode"]
    code, printed = demo.run_cli("check", endpoint=upgraded.endpoint)
    assert code == 0, printed


def test_forcing_trail_topic_while_our_entry_fires_is_refused_before_any_write(upgraded: Upgraded) -> None:
    subscriptions_before = clients.sns().list_subscriptions_by_topic(TopicArn=upgraded.zone.trail_topic_arn)
    with pytest.raises(deploy.DeployFailed, match="deliver every file twice"):
        deploy.deploy({**upgraded.parameters, "LogTargetRevision": "2", "DeliveryMode": "trail-topic"})
    subscriptions = clients.sns().list_subscriptions_by_topic(TopicArn=upgraded.zone.trail_topic_arn)
    assert subscriptions["Subscriptions"] == subscriptions_before["Subscriptions"]
    assert landing_zone.notifications_of(upgraded.zone.bucket) == upgraded.notifications_onboarded


def test_each_log_file_reaches_workbench_exactly_once(upgraded: Upgraded) -> None:
    key = trail_deliveries.deliver_log_file(upgraded.zone)
    assert events_for(upgraded, key) == 1


def test_the_stack_still_deletes_and_says_what_stays_on_the_bucket(upgraded: Upgraded) -> None:
    cloudformation = clients.cloudformation()
    stack_id = cloudformation.describe_stacks(StackName=deploy.STACK)["Stacks"][0]["StackId"]
    deploy.destroy()
    demo.wait_deleted()
    assert landing_zone.key_policy_of(upgraded.zone.cloudtrail_key_arn) == upgraded.key_policy_before
    # CT.S3.PV.8 refused the removal: the bucket keeps what it had after onboarding, nothing else changed.
    assert landing_zone.notifications_of(upgraded.zone.bucket) == upgraded.notifications_onboarded
    # The runs and logs went with the stack; its events stay, and the Delete's reason says what stayed.
    events = cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]
    (deleted,) = [
        e for e in events if e["LogicalResourceId"] == "Onboarding" and e["ResourceStatus"] == "DELETE_COMPLETE"
    ]
    reason = deleted["ResourceStatusReason"]
    assert reason.startswith(f"Left in place: our notification entry ({upgraded.zone.bucket}, entry 'ExpelOnboarding")
    assert len(reason) <= 256
