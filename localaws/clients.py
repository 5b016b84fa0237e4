"""The one place localaws makes boto3 clients: one per service, region and endpoint on boto3's default
session, and one default session per process for as long as the AWS environment stays the same.

A client costs about 10 ms to make (botocore copies the session's event hooks and builds the endpoint
rules and an operation method for each API), and seeding one landing zone used to make 25 of them. The
clients are account-agnostic: the account is a per-request header (localaws.request_headers), hooked
into every client made here, so a kept client acts as whichever account the caller acts as.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, cast
from weakref import WeakKeyDictionary

import boto3

from localaws import request_headers
from localaws.accounts import REGION

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient

# What a session and its clients are made from: a change makes a new session (and so new clients).
_ENVIRONMENT = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
)
_LOCK = threading.Lock()  # Step Functions branches and Lambda invocations run in threads
_MADE: WeakKeyDictionary[boto3.Session, dict[tuple[str, str, str | None], Any]] = WeakKeyDictionary()
_KEPT_SESSION: dict[tuple[str | None, ...], boto3.Session] = {}


def aws_environment() -> tuple[str | None, ...]:
    """What clients are made from, as this thread's environment has it: equal tuples, interchangeable clients."""
    return tuple(os.environ.get(name) for name in _ENVIRONMENT)


def keep_default_session() -> boto3.Session:
    """Make boto3's default session the one this process keeps for the current AWS environment.

    moto sets boto3.DEFAULT_SESSION to None when a mock starts (and back when it stops), so each test
    would otherwise make every client anew; its backends are reset all the same."""
    environment = aws_environment()
    with _LOCK:
        if environment not in _KEPT_SESSION:
            _KEPT_SESSION.clear()
            _KEPT_SESSION[environment] = boto3.Session()
        session = boto3.DEFAULT_SESSION = _KEPT_SESSION[environment]
    return session


def is_kept(session: boto3.Session | None) -> bool:
    """Whether keep_default_session() still hands out this session (for the environment it was made in)."""
    with _LOCK:
        return session is not None and any(kept is session for kept in _KEPT_SESSION.values())


def _kept(service: str, region: str) -> Any:
    with _LOCK:
        session = request_headers.default_session()
        made = _MADE.setdefault(session, {})
        key = (service, region, os.environ.get("AWS_ENDPOINT_URL"))
        if key not in made:
            client = session.client(service, region_name=region)  # type: ignore[call-overload]
            request_headers.hook(client.meta.events)
            made[key] = client
        return made[key]


def cloudformation(region: str = REGION) -> CloudFormationClient:
    return cast("CloudFormationClient", _kept("cloudformation", region))


def cloudtrail(region: str = REGION) -> CloudTrailClient:
    return cast("CloudTrailClient", _kept("cloudtrail", region))


def events(region: str = REGION) -> Any:
    # Only the tests read EventBridge (the management stack's rule), so its type stubs are not pinned.
    return _kept("events", region)


def logs(region: str = REGION) -> Any:
    # Only the tests read a log group (the management stack's record of key policy changes).
    return _kept("logs", region)


def iam() -> IAMClient:
    return cast("IAMClient", _kept("iam", REGION))


def kms(region: str = REGION) -> KMSClient:
    return cast("KMSClient", _kept("kms", region))


def lambda_(region: str = REGION) -> LambdaClient:
    return cast("LambdaClient", _kept("lambda", region))


def organizations() -> OrganizationsClient:
    return cast("OrganizationsClient", _kept("organizations", REGION))


def cloudwatch(region: str = REGION) -> CloudWatchClient:
    return cast("CloudWatchClient", _kept("cloudwatch", region))


def s3(region: str = REGION) -> S3Client:
    return cast("S3Client", _kept("s3", region))


def sns(region: str = REGION) -> SNSClient:
    return cast("SNSClient", _kept("sns", region))


def sqs(region: str = REGION) -> SQSClient:
    return cast("SQSClient", _kept("sqs", region))


def stepfunctions(region: str = REGION) -> SFNClient:
    return cast("SFNClient", _kept("stepfunctions", region))


def sts(region: str = REGION) -> STSClient:
    return cast("STSClient", _kept("sts", region))
