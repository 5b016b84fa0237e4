"""The one place boto3 clients are made: lazily, once per process, with botocore's standard retries.

Nothing here runs at import time, so a handler imports fast and tests can patch the environment
(moto, endpoints) before the first call.

Every client made here answers a throttle that outlasted botocore's retries with AwsThrottled, whatever
the operation (watched): the state machine's Retry matches that name, so no step, delegate call, relay
record or bridge poll can turn a throttle into a failure, a skip or an ACTION_REQUIRED on its own.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from expel_onboarding.errors import AwsThrottled, is_throttled

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient

# Standard mode retries throttling and transient errors with backoff; what still fails reaches the
# state machine, whose Retry handles it.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


def watched[Client](client: Client) -> Client:
    """The client, raising AwsThrottled for a throttle botocore's retries did not absorb. botocore emits
    after-call once the retries are over, with the final answer, just before it raises that answer as a
    ClientError (botocore's documented event system, "after-call")."""
    client.meta.events.register("after-call", _raise_throttled, unique_id="expel-throttled")  # type: ignore[attr-defined]
    return client


# A call that only reads, or is idempotent, and has no state machine to retry it (a custom resource, the bridge's
# start), is made again this many times when throttled, after about 1, 2, 4, 8 and 16 s: half a minute.
THROTTLED_ATTEMPTS = 6


def again_when_throttled[Result](call: Callable[[], Result], *, sleep: Callable[[float], None] | None = None) -> Result:
    """call(), made again with exponential backoff and full jitter while AWS throttles it."""
    for attempt in range(THROTTLED_ATTEMPTS - 1):
        try:
            return call()
        except AwsThrottled:
            (sleep or time.sleep)(random.uniform(0, 2**attempt))  # noqa: S311 - jitter, not a secret
    return call()


def _raise_throttled(http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
    status = int(getattr(http_response, "status_code", 0) or 0)
    if status < 300:
        return
    error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    if is_throttled(code, status):
        action = f"{model.service_model.signing_name}:{model.name}"
        raise AwsThrottled(f"{action} was throttled beyond botocore's retries ({code or status}: {message})")


@cache
def s3() -> S3Client:
    return watched(boto3.client("s3", config=RETRIES))


def kms(key_arn: str) -> KMSClient:
    """A client in the key's own region. A KMS key lives in one region, which its ARN names (AWS KMS
    developer guide, "Key identifiers (KeyId)":
    https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id), and a client in
    another region answers NotFoundException for a key that exists. The CloudTrail key is in Control
    Tower's home region, which need not be the region of the function that reads it."""
    return _kms_in(key_arn.split(":")[3])


@cache
def _kms_in(region: str) -> KMSClient:
    return watched(boto3.client("kms", region_name=region, config=RETRIES))


@cache
def sns() -> SNSClient:
    return watched(boto3.client("sns", config=RETRIES))


@cache
def iam() -> IAMClient:
    return watched(boto3.client("iam", config=RETRIES))


@cache
def sts() -> STSClient:
    return watched(boto3.client("sts", config=RETRIES))


@cache
def cloudtrail() -> CloudTrailClient:
    return watched(boto3.client("cloudtrail", config=RETRIES))


@cache
def sfn() -> SFNClient:
    return watched(boto3.client("stepfunctions", config=RETRIES))


@cache
def organizations() -> OrganizationsClient:
    return watched(boto3.client("organizations", config=RETRIES))


@cache
def lambda_(region: str) -> LambdaClient:
    return watched(boto3.client("lambda", region_name=region, config=RETRIES))


def invoke(function_arn: str, payload: Mapping[str, Any]) -> tuple[Any, str]:
    """Invoke a function synchronously (in its own region): its JSON answer, and its FunctionError
    ("" when it succeeded). The key-policy step reaches the management account's delegate this way."""
    return invoke_with(lambda_(function_arn.split(":")[3]), function_arn, payload)


def invoke_with(client: LambdaClient, function_arn: str, payload: Mapping[str, Any]) -> tuple[Any, str]:
    """invoke(), through a given client (a person's, for a plan), watched for throttles like every other."""
    client = watched(client)
    response = client.invoke(FunctionName=function_arn, Payload=json.dumps(payload).encode("utf-8"))
    body = response["Payload"].read()
    return (json.loads(body) if body else None), str(response.get("FunctionError", ""))


def reset() -> None:
    """Forget every cached client, so the next call sees a changed environment (tests, emulator)."""
    for factory in (s3, sns, iam, sts, cloudtrail, organizations, sfn):
        factory.cache_clear()
    _kms_in.cache_clear()
    lambda_.cache_clear()
