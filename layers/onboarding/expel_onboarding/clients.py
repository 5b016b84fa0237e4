"""The one place boto3 clients are made: lazily, once per process, with botocore's standard retries.

Nothing here runs at import time, so a handler imports fast and tests can patch the environment
(moto, endpoints) before the first call.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient

# Standard mode retries throttling and transient errors with backoff; what still fails reaches the
# state machine, whose Retry handles it.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
SESSION_NAME = "expel-onboarding-key-policy"


@cache
def s3() -> S3Client:
    return boto3.client("s3", config=RETRIES)


@cache
def kms() -> KMSClient:
    return boto3.client("kms", config=RETRIES)


@cache
def sns() -> SNSClient:
    return boto3.client("sns", config=RETRIES)


@cache
def iam() -> IAMClient:
    return boto3.client("iam", config=RETRIES)


@cache
def sts() -> STSClient:
    return boto3.client("sts", config=RETRIES)


@cache
def cloudtrail() -> CloudTrailClient:
    return boto3.client("cloudtrail", config=RETRIES)


@cache
def sfn() -> SFNClient:
    return boto3.client("stepfunctions", config=RETRIES)


@cache
def organizations() -> OrganizationsClient:
    return boto3.client("organizations", config=RETRIES)


def kms_as(role_arn: str, region: str) -> KMSClient:
    """A KMS client acting as role_arn, for a key whose policy can only be edited from its own account."""
    credentials = sts().assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    return boto3.client(
        "kms",
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=RETRIES,
    )


def for_cli(
    profile: str | None, region: str | None, endpoint_url: str | None
) -> tuple[CloudFormationClient, SFNClient]:
    """The CLI's clients: a person's profile and region, or an AWS-compatible endpoint."""
    session = boto3.Session(profile_name=profile, region_name=region)
    cloudformation = session.client("cloudformation", endpoint_url=endpoint_url, config=RETRIES)
    stepfunctions = session.client("stepfunctions", endpoint_url=endpoint_url, config=RETRIES)
    return cloudformation, stepfunctions


def reset() -> None:
    """Forget every cached client, so the next call sees a changed environment (tests, emulator)."""
    for factory in (s3, kms, sns, iam, sts, cloudtrail, organizations, sfn):
        factory.cache_clear()
