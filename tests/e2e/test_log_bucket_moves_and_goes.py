"""End to end on the local AWS: the trail moves under a deployed stack. Its key prefix changes: check says
so and names the command that adapts the stack, which then delivers again. The log bucket moves (a
LogBucketName change, as a stack update), and later the new bucket is deleted before the stack is. Each
time our entries follow, and nothing of ours is left behind: not on the old bucket, not in the key policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from localaws import clients, demo, deploy, landing_zone, stack_parameters
from tests.support.local_aws import local_aws

OURS = "ExpelOnboarding"


@pytest.fixture(scope="module")
def zone() -> Iterator[landing_zone.LandingZone]:
    with local_aws():
        yield landing_zone.seed("3")


def entry_ids(bucket: str) -> list[str]:
    config = landing_zone.notifications_of(bucket)
    return [entry["Id"] for entries in config.values() if isinstance(entries, list) for entry in entries]


def move_the_trail(zone: landing_zone.LandingZone, bucket: str) -> None:
    """What a customer who moves the organization trail's logs does: a new bucket (with another team's
    entry already on it), and the trail pointed at it."""
    s3 = clients.s3()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration=zone.foreign_notifications,  # type: ignore[arg-type]
    )
    # (The local organization trail lives where the Log Archive account sees it: see create_organization_trail.)
    clients.cloudtrail().update_trail(Name=zone.trail_arn, S3BucketName=bucket, KmsKeyId=zone.cloudtrail_key_arn)


def empty_and_delete(bucket: str) -> None:
    s3 = clients.s3()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)


def test_a_moved_key_prefix_fails_check_naming_the_change_and_a_redeploy_delivers_again(
    zone: landing_zone.LandingZone,
) -> None:
    endpoint = clients.s3().meta.endpoint_url
    parameters = stack_parameters.parameters(zone)
    outputs = deploy.deploy(parameters)
    assert demo.run_cli("check", endpoint=endpoint)[0] == 0

    # A landing-zone update writes the organization's logs under another prefix.
    clients.cloudtrail().update_trail(Name=zone.trail_arn, S3KeyPrefix="moved")
    code, printed = demo.run_cli("check", endpoint=endpoint)
    flat = " ".join(printed.split())
    assert code == 3, printed
    org = zone.organization_id
    assert f"key prefix: {org} -> moved" in flat
    assert f"our bucket entry notifies only under {org}/AWSLogs/{org}/, where no log file lands any more" in flat
    assert "sam deploy --parameter-overrides LogTargetRevision=2" in flat
    # The stack's outputs say the same at the next deploy's run, and the redeploy follows the trail.
    updated = deploy.deploy({**parameters, "LogTargetRevision": "2"})
    assert updated["ActionRequired"] == "none"
    received = demo.deliver_a_log_object(zone, outputs)
    assert f"/moved/AWSLogs/{org}/" in received, received
    code, printed = demo.run_cli("check", endpoint=endpoint)
    assert code == 0, printed
    assert "Delivery health: Delivering" in printed

    clients.cloudtrail().update_trail(Name=zone.trail_arn, S3KeyPrefix=org)
    deploy.destroy()
    demo.wait_deleted()
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy


def test_a_moved_bucket_takes_our_entry_along_and_a_deleted_one_still_gives_the_key_back(
    zone: landing_zone.LandingZone,
) -> None:
    parameters = stack_parameters.parameters(zone)
    outputs = deploy.deploy(parameters)
    assert any(entry.startswith(OURS) for entry in entry_ids(zone.bucket))
    key_policy_with_ours = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
    assert key_policy_with_ours != zone.foreign_key_policy

    # The LogBucketName change: CloudFormation sends LogTarget and Onboarding their Update, updates every
    # function's settings in between, then deletes Onboarding's old physical id (remove on the old bucket).
    moved = f"{zone.bucket}-moved"
    move_the_trail(zone, moved)
    updated = deploy.deploy({**parameters, "LogBucketName": moved})
    assert updated == outputs
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert [entry for entry in entry_ids(moved) if entry.startswith(OURS)] != []
    assert sorted(e for e in entry_ids(moved) if not e.startswith(OURS)) == sorted(entry_ids(zone.bucket))
    # The key did not move: our statement stays, unchanged.
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == key_policy_with_ours
    # The trail now writes to the new bucket, and only our entry there can bring its events to the queue.
    received = demo.deliver_a_log_object(replace(zone, bucket=moved), outputs)
    assert received.startswith("aws:s3 ObjectCreated:Put"), received

    # Then the new bucket is deleted before the stack: our entry went with it, our key statement must not stay.
    empty_and_delete(moved)
    deploy.destroy()
    demo.wait_deleted()
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
