"""End to end: a first deploy that fails rolls back and leaves the bucket and the key policy as they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localaws import clients, demo, deploy, landing_zone, stack_parameters
from tests.support.local_aws import local_aws


@pytest.fixture(scope="module")
def zone() -> Iterator[landing_zone.LandingZone]:
    with local_aws():
        yield landing_zone.seed("3")


def test_an_overlapping_foreign_entry_fails_the_deploy_and_the_rollback_leaves_nothing_of_ours(
    zone: landing_zone.LandingZone,
) -> None:
    # Another team's entry already takes every object under the organization's folder, where the trail writes
    # its log files: Notification's preflight refuses, and CloudFormation rolls the create back.
    s3 = clients.s3()
    archive = {
        "Id": "siem-archive",
        "TopicArn": zone.foreign_notifications["TopicConfigurations"][0]["TopicArn"],
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{zone.key_prefix}/"}]}},
    }
    topics = [*zone.foreign_notifications["TopicConfigurations"], archive]
    with_archive = {**zone.foreign_notifications, "TopicConfigurations": topics}
    s3.put_bucket_notification_configuration(Bucket=zone.bucket, NotificationConfiguration=with_archive)  # type: ignore[arg-type]
    with pytest.raises(deploy.DeployFailed, match="NotificationOverlap") as failed:
        deploy.deploy(stack_parameters.parameters(zone))
    assert "ROLLBACK_COMPLETE" in str(failed.value)
    assert landing_zone.notifications_of(zone.bucket) == with_archive
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy
    s3.put_bucket_notification_configuration(Bucket=zone.bucket, NotificationConfiguration=zone.foreign_notifications)  # type: ignore[arg-type]


def test_a_notification_prefix_no_log_file_falls_under_fails_the_deploy_naming_the_prefix_that_fits(
    zone: landing_zone.LandingZone,
) -> None:
    org = zone.organization_id
    with pytest.raises(deploy.DeployFailed, match=f"set NotificationPrefix={org}/AWSLogs/{org}/") as failed:
        deploy.deploy({**stack_parameters.parameters(zone), "NotificationPrefix": "AWSLogs/"})
    assert "ROLLBACK_COMPLETE" in str(failed.value)
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy


def test_the_next_deploy_after_a_rollback_starts_afresh_and_succeeds(zone: landing_zone.LandingZone) -> None:
    outputs = deploy.deploy(stack_parameters.parameters(zone))
    assert outputs["ActionRequired"] == "none"
    deploy.destroy()
    demo.wait_deleted()
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy
