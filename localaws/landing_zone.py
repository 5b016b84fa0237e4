"""A Control Tower-like landing zone in moto, for tests that need the whole picture.

The management account owns the organization, the CloudTrail key (whose policy other teams use)
and the key-policy role. The Log Archive account, moto's default account, owns the log bucket,
whose notification configuration already serves two other teams. Acting as the Log Archive
without MOTO_ACCOUNT_ID keeps moto's AssumeRole account switching working.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID

from localaws import patches

MANAGEMENT = "111111111111"
LOG_ARCHIVE = DEFAULT_ACCOUNT_ID
REGION = "us-east-1"
EXPEL_PRINCIPAL = "arn:aws:iam::012205512454:user/ExpelCloudService"
EXTERNAL_ID = "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{LOG_ARCHIVE}:stack/expel-cloudtrail/0a1b2c3d-1111-2222-3333-444455556666"


# The CloudTrail key's policy before we come: three statements of other teams.
CLOUDTRAIL_KEY_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Id": "Key policy created by CloudTrail",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Allow CloudTrail to encrypt logs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
        },
        {
            "Sid": "Audit team may describe",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:role/Audit"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
        },
    ],
}


@dataclass(frozen=True)
class LandingZone:
    organization_id: str
    bucket: str
    trail_arn: str
    cloudtrail_key_arn: str
    key_policy_role_arn: str
    foreign_notifications: dict[str, Any]
    foreign_key_policy: dict[str, Any]


_ACTING_AS: ContextVar[str | None] = ContextVar("acting_as", default=None)


def _add_account_header(request: Any, **_: Any) -> None:
    account = _ACTING_AS.get()
    if account is not None:
        request.headers["x-moto-account-id"] = account


@contextmanager
def as_account(account: str) -> Iterator[None]:
    """Make calls as another account of the organization, then act as the Log Archive again.

    moto reads the account from a request header, so this works against the in-process mock and
    against a local AWS server in another process alike. Clients must be made inside the block."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    session.events.register("before-sign", _add_account_header, unique_id="localaws-account-header")
    token = _ACTING_AS.set(account)
    try:
        yield
    finally:
        _ACTING_AS.reset(token)


def key_policy_of(key_arn: str) -> dict[str, Any]:
    with as_account(MANAGEMENT):
        text = boto3.client("kms", region_name=REGION).get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def notifications_of(bucket: str) -> dict[str, Any]:
    raw = boto3.client("s3", region_name=REGION).get_bucket_notification_configuration(Bucket=bucket)
    return {k: v for k, v in raw.items() if k != "ResponseMetadata"}


def seed() -> LandingZone:
    with as_account(MANAGEMENT):
        organizations = boto3.client("organizations", region_name=REGION)
        organization_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        patches.create_member_account(organizations, LOG_ARCHIVE, "Log Archive")
        kms = boto3.client("kms", region_name=REGION)
        key_arn = kms.create_key(Description="AWS Control Tower CloudTrail key")["KeyMetadata"]["Arn"]
        kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(CLOUDTRAIL_KEY_POLICY))
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = boto3.client("iam").create_role(
            RoleName="ExpelKeyPolicyEditor", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]

    bucket = f"aws-controltower-logs-{LOG_ARCHIVE}-{REGION}"
    s3, sns, sqs = (boto3.client(name, region_name=REGION) for name in ("s3", "sns", "sqs"))
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    queue_url = sqs.create_queue(QueueName="security-lake-feed")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    audit_topic = sns.create_topic(Name="audit-deletions")["TopicArn"]
    foreign = {
        "QueueConfigurations": [
            {
                "Id": "security-lake",
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "reports/"}]}},
            }
        ],
        "TopicConfigurations": [{"Id": "audit-deletions", "TopicArn": audit_topic, "Events": ["s3:ObjectRemoved:*"]}],
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=foreign)  # type: ignore[arg-type]
    trail_arn = patches.create_organization_trail(bucket, key_arn)
    return LandingZone(
        organization_id=organization_id,
        bucket=bucket,
        trail_arn=trail_arn,
        cloudtrail_key_arn=key_arn,
        key_policy_role_arn=role_arn,
        foreign_notifications=notifications_of(bucket),
        foreign_key_policy=key_policy_of(key_arn),
    )
