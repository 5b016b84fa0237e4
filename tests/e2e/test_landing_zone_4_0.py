"""End to end on a local landing zone 4.0: the real template through the local CloudFormation, where the
emulated CT.S3.PV.8 and CT.SNS.PV.1 refuse what they refuse in AWS. Tests run in order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from localaws import clients, demo, deploy, landing_zone, stack_parameters
from localaws.aws_calls import AwsCalls
from tests.support.local_aws import local_aws

GUARDED = ("s3:PutBucketNotificationConfiguration", "s3:PutBucketOwnershipControls")


@dataclass
class Deployed4:
    endpoint: str
    zone: landing_zone.LandingZone
    outputs: dict[str, str]
    calls: AwsCalls
    notifications_before: dict
    key_policy_before: dict


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed4]:
    with local_aws() as endpoint:
        zone = landing_zone.seed("4.0")
        notifications = landing_zone.notifications_of(zone.bucket)
        key_policy = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
        delegate_arn = stack_parameters.deploy_org(zone)
        calls = AwsCalls().start()
        outputs = deploy.deploy(stack_parameters.parameters(zone, delegate_arn))
        yield Deployed4(endpoint, zone, outputs, calls, notifications, key_policy)


def test_auto_deploys_in_trail_topic_mode_with_nothing_left_to_do(deployed: Deployed4) -> None:
    assert deployed.outputs["DeliveryMode"].startswith("trail-topic: auto:")
    assert deployed.zone.trail_topic_arn in deployed.outputs["DeliveryMode"]
    assert deployed.outputs["ActionRequired"] == "none"
    assert deployed.outputs["ManagementAccountId"] == landing_zone.MANAGEMENT


def test_no_write_the_control_guards_is_even_attempted(deployed: Deployed4) -> None:
    assert [call for call in deployed.calls.made if call in GUARDED] == []
    assert landing_zone.notifications_of(deployed.zone.bucket) == deployed.notifications_before


def test_the_roles_name_the_trails_bucket_not_a_guessed_one(deployed: Deployed4) -> None:
    policy = clients.iam().get_role_policy(RoleName="ExpelTrailAssumeRole", PolicyName="ExpelCloudTrailAccess")
    resources = str(policy["PolicyDocument"])
    assert f"arn:aws:s3:::{deployed.zone.bucket}/*" in resources
    assert "aws-controltower-logs-" not in resources


def test_a_log_file_reaches_workbenchs_queue_as_a_raw_s3_event(deployed: Deployed4) -> None:
    delivered = demo.deliver_a_log_object(deployed.zone, deployed.outputs)
    org = deployed.zone.organization_id
    assert delivered.startswith(f"aws:s3 ObjectCreated:Put s3://{deployed.zone.bucket}/{org}/AWSLogs/{org}/")


def test_check_is_all_ok_and_exits_0(deployed: Deployed4) -> None:
    code, printed = demo.run_cli("check", endpoint=deployed.endpoint)
    assert code == 0, printed
    assert "Delivery: trail-topic" in printed


def test_deleting_the_stack_unsubscribes_the_relay_and_restores_the_key_policy(deployed: Deployed4) -> None:
    deploy.destroy()
    demo.wait_deleted()
    assert demo.relay_subscriptions(deployed.zone) == []
    assert landing_zone.key_policy_of(deployed.zone.cloudtrail_key_arn) == deployed.key_policy_before
    assert landing_zone.notifications_of(deployed.zone.bucket) == deployed.notifications_before


def test_forcing_bucket_notification_deploys_with_action_required_naming_trail_topic(deployed: Deployed4) -> None:
    calls = AwsCalls().start()
    outputs = deploy.deploy({**stack_parameters.parameters(deployed.zone), "DeliveryMode": "bucket-notification"})
    assert outputs["DeliveryMode"].startswith("bucket-notification: DeliveryMode=bucket-notification was set")
    assert outputs["ActionRequired"] == "Notification"
    # Forced, the write is attempted once, refused by the emulated CT.S3.PV.8, and never retried.
    assert calls.made.count("s3:PutBucketNotificationConfiguration") == 1
    # An explicit deny on the bucket leaves both documents exactly as they were: the run took back its statement.
    assert landing_zone.notifications_of(deployed.zone.bucket) == deployed.notifications_before
    assert landing_zone.key_policy_of(deployed.zone.cloudtrail_key_arn) == deployed.key_policy_before
    deploy.destroy()
    demo.wait_deleted()


def test_a_log_bucket_name_the_trail_does_not_write_to_fails_the_deploy_naming_the_trails_bucket(
    deployed: Deployed4,
) -> None:
    wrong = f"aws-controltower-logs-{landing_zone.LOG_ARCHIVE}-{landing_zone.REGION}"
    with pytest.raises(deploy.DeployFailed) as failed:
        deploy.deploy({**stack_parameters.parameters(deployed.zone), "LogBucketName": wrong})
    assert deployed.zone.bucket in str(failed.value)
    assert "set LogBucketName" in str(failed.value)
