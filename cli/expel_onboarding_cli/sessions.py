"""The clients a person's command makes: their profile and region, or an AWS-compatible endpoint, with the
product's retries, and watched for throttles (expel_onboarding.clients)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import InvalidRegionError, NoRegionError

from expel_onboarding.clients import RETRIES, watched
from expel_onboarding_cli.plan import Readers

# AWS's region names (us-east-1, us-gov-west-1, ap-southeast-4); an Availability Zone adds a letter.
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
AVAILABILITY_ZONE = re.compile(r"([a-z]{2}(?:-[a-z]+)+-[0-9]{1,2})[a-z]")

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient


def region_problem(name: str) -> str:
    """What is wrong with a region name, and the fix; "" for a well-formed one."""
    if REGION.fullmatch(name):
        return ""
    zone = AVAILABILITY_ZONE.fullmatch(name)
    if zone:
        return f"{name!r} is an Availability Zone: pass its region, --region {zone[1]}"
    return f"{name!r} is not an AWS region name, such as us-east-1 or eu-west-2"


def session(profile: str | None, region: str | None) -> boto3.Session:
    """A person's session; a region from AWS_DEFAULT_REGION or the profile is held to the same form as --region
    (botocore would ask a host that does not exist, or a local AWS a region it does not have)."""
    made = boto3.Session(profile_name=profile, region_name=region)
    if made.region_name and region_problem(made.region_name):
        raise InvalidRegionError(region_name=made.region_name)
    return made


def for_cli(
    profile: str | None, region: str | None, endpoint_url: str | None
) -> tuple[CloudFormationClient, SFNClient]:
    """The CLI's clients: a person's profile and region, or an AWS-compatible endpoint."""
    person = session(profile, region)
    cloudformation = watched(person.client("cloudformation", endpoint_url=endpoint_url, config=RETRIES))
    stepfunctions = watched(person.client("stepfunctions", endpoint_url=endpoint_url, config=RETRIES))
    return cloudformation, stepfunctions


def for_delivery_report(
    profile: str | None, region: str | None, endpoint_url: str | None
) -> tuple[CloudWatchClient, S3Client]:
    """The reads of check's delivery report, as the person who runs it."""
    person = session(profile, region)
    return (
        watched(person.client("cloudwatch", endpoint_url=endpoint_url, config=RETRIES)),
        watched(person.client("s3", endpoint_url=endpoint_url, config=RETRIES)),
    )


def for_plan(profile: str | None, region: str | None, endpoint_url: str | None, key_profile: str | None) -> Readers:
    """A plan's read-only clients, as a person: their profile and region (and a profile in the key's
    account, if they give one), or an AWS-compatible endpoint."""
    person = session(profile, region)
    if person.region_name is None:
        # The stack's region decides everything a plan reads; S3 and STS clients would quietly take a default.
        raise NoRegionError
    key_session = session(key_profile, region) if key_profile else None
    return Readers(
        sts=watched(person.client("sts", endpoint_url=endpoint_url, config=RETRIES)),
        organizations=watched(person.client("organizations", endpoint_url=endpoint_url, config=RETRIES)),
        cloudtrail=watched(person.client("cloudtrail", endpoint_url=endpoint_url, config=RETRIES)),
        s3=watched(person.client("s3", endpoint_url=endpoint_url, config=RETRIES)),
        kms=watched(person.client("kms", endpoint_url=endpoint_url, config=RETRIES)),
        cloudformation=watched(person.client("cloudformation", endpoint_url=endpoint_url, config=RETRIES)),
        lambda_=watched(person.client("lambda", endpoint_url=endpoint_url, config=RETRIES)),
        region=person.region_name,
        ec2=watched(person.client("ec2", endpoint_url=endpoint_url, config=RETRIES)),
        sns=watched(person.client("sns", endpoint_url=endpoint_url, config=RETRIES)),
        key_account_kms=watched(key_session.client("kms", endpoint_url=endpoint_url, config=RETRIES))
        if key_session
        else None,
        key_account_organizations=watched(
            key_session.client("organizations", endpoint_url=endpoint_url, config=RETRIES)
        )
        if key_session
        else None,
    )
