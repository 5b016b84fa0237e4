"""End to end: the stack is deleted after the log bucket itself was, and still leaves nothing of ours.

(A LogBucketName change is a stack update; the local CloudFormation does not send Update to custom
resources, so tests/workflow/test_bridge.py drives that move through the bridge itself.)
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from localaws import demo, deploy, landing_zone
from tests.support.local_aws import local_aws

OURS = "ExpelOnboarding"


@pytest.fixture(scope="module")
def zone() -> Iterator[landing_zone.LandingZone]:
    with local_aws():
        yield landing_zone.seed("3")


def entry_ids(bucket: str) -> list[str]:
    config = landing_zone.notifications_of(bucket)
    return [entry["Id"] for entries in config.values() if isinstance(entries, list) for entry in entries]


def test_deleting_the_stack_after_the_bucket_was_deleted_still_takes_our_statement_out(
    zone: landing_zone.LandingZone,
) -> None:
    deploy.deploy(demo.parameters(zone))
    assert any(entry.startswith(OURS) for entry in entry_ids(zone.bucket))
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) != zone.foreign_key_policy
    s3 = boto3.client("s3", region_name=landing_zone.REGION)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=zone.bucket):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=zone.bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=zone.bucket)
    deploy.destroy()
    demo.wait_deleted()
    # The bucket is gone, and our entry with it; our statement in the management account's key is not.
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy
