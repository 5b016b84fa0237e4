"""Every workaround for a gap in moto that the tests need, each naming the gap it covers."""

from __future__ import annotations

from typing import Any
from unittest import mock

import boto3
from moto.organizations import utils as organizations_utils


def create_member_account(organizations: Any, account_id: str, name: str) -> None:
    """Gap: moto gives new member accounts random ids, and acting as one through MOTO_ACCOUNT_ID
    disables the access-key account switching that cross-account AssumeRole relies on. So the
    member gets the id we choose (moto's default account), and no MOTO_ACCOUNT_ID is needed."""
    with mock.patch.object(organizations_utils, "make_random_account_id", return_value=account_id):
        organizations.create_account(Email=f"{name.lower().replace(' ', '-')}@example.com", AccountName=name)


def create_organization_trail(bucket: str, key_arn: str) -> str:
    """Gap: moto keeps a trail in the account that created it, while AWS shows the management
    account's organization trail to every member. So the trail is created where the Log Archive
    account (the caller) can describe it, with the management account's key."""
    trail = boto3.client("cloudtrail").create_trail(
        Name="aws-controltower-BaselineCloudTrail",
        S3BucketName=bucket,
        IsMultiRegionTrail=True,
        KmsKeyId=key_arn,
    )
    return str(trail["TrailARN"])
