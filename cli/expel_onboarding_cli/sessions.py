"""The clients a person's command makes: their profile and region, or an AWS-compatible endpoint, with the
product's retries, and watched for throttles (expel_onboarding.clients)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import NoRegionError

from expel_onboarding.clients import RETRIES, watched
from expel_onboarding_cli.plan import Readers

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient


def for_cli(
    profile: str | None, region: str | None, endpoint_url: str | None
) -> tuple[CloudFormationClient, SFNClient]:
    """The CLI's clients: a person's profile and region, or an AWS-compatible endpoint."""
    session = boto3.Session(profile_name=profile, region_name=region)
    cloudformation = watched(session.client("cloudformation", endpoint_url=endpoint_url, config=RETRIES))
    stepfunctions = watched(session.client("stepfunctions", endpoint_url=endpoint_url, config=RETRIES))
    return cloudformation, stepfunctions


def for_delivery_report(
    profile: str | None, region: str | None, endpoint_url: str | None
) -> tuple[CloudWatchClient, S3Client]:
    """The reads of check's delivery report, as the person who runs it."""
    session = boto3.Session(profile_name=profile, region_name=region)
    return (
        watched(session.client("cloudwatch", endpoint_url=endpoint_url, config=RETRIES)),
        watched(session.client("s3", endpoint_url=endpoint_url, config=RETRIES)),
    )


def for_plan(profile: str | None, region: str | None, endpoint_url: str | None, key_profile: str | None) -> Readers:
    """A plan's read-only clients, as a person: their profile and region (and a profile in the key's
    account, if they give one), or an AWS-compatible endpoint."""
    session = boto3.Session(profile_name=profile, region_name=region)
    if session.region_name is None:
        # The stack's region decides everything a plan reads; S3 and STS clients would quietly take a default.
        raise NoRegionError
    key_session = boto3.Session(profile_name=key_profile, region_name=region) if key_profile else None
    return Readers(
        sts=watched(session.client("sts", endpoint_url=endpoint_url, config=RETRIES)),
        organizations=watched(session.client("organizations", endpoint_url=endpoint_url, config=RETRIES)),
        cloudtrail=watched(session.client("cloudtrail", endpoint_url=endpoint_url, config=RETRIES)),
        s3=watched(session.client("s3", endpoint_url=endpoint_url, config=RETRIES)),
        kms=watched(session.client("kms", endpoint_url=endpoint_url, config=RETRIES)),
        cloudformation=watched(session.client("cloudformation", endpoint_url=endpoint_url, config=RETRIES)),
        lambda_=watched(session.client("lambda", endpoint_url=endpoint_url, config=RETRIES)),
        region=session.region_name,
        key_account_kms=watched(key_session.client("kms", endpoint_url=endpoint_url, config=RETRIES))
        if key_session
        else None,
    )
