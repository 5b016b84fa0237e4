"""One list of throttling codes, botocore's: errors.THROTTLING_CODES is what the installed botocore calls a
throttle, in its standard retry mode (each code asked of its ThrottledRetryableChecker, a public class of
botocore.retries.standard) and in its legacy mode's retry configuration (data/_retry.json, read with
botocore's own loader), over every code either knows of for the services we call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
from botocore.loaders import create_loader
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from expel_onboarding.errors import THROTTLING_CODES, AwsThrottled, is_throttled
from expel_onboarding.key_policy import delegated

SERVICES = ("s3", "kms", "sns", "iam", "sts", "cloudtrail", "stepfunctions", "organizations", "lambda", "cloudwatch")
# The legacy policies that are throttles (the others retry timeouts, bad digests and conflicts).
LEGACY_THROTTLES = {
    "throttling",
    "throttling_exception",
    "throttled_exception",
    "request_throttled_exception",
    "throughput_exceeded",
    "too_many_requests",
    "request_limit_exceeded",
    "ec2_throttled_exception",
    "still_processing",
}


def legacy_codes(node: Any, policy: str = "") -> Iterator[tuple[str, str]]:
    """(policy name, service error code) for each policy of botocore's legacy retry configuration."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "service_error_code":
                yield policy, str(value)
            else:
                yield from legacy_codes(value, key if isinstance(value, dict) and "applies_when" in value else policy)


def modeled_error_codes() -> set[str]:
    session = botocore.session.get_session()
    found: set[str] = set()
    for service in SERVICES:
        model = session.get_service_model(service)
        for name in model.shape_names:
            shape = model.shape_for(name)
            if shape.metadata.get("exception"):
                found |= {name, str(shape.metadata.get("error", {}).get("code", name))}
    return found


def botocore_throttles() -> set[str]:
    retry = create_loader().load_data("_retry")
    legacy = set(legacy_codes(retry))
    legacy_throttles = {code for policy, code in legacy if policy in LEGACY_THROTTLES}
    checker = ThrottledRetryableChecker()
    candidates = {code for _, code in legacy} | modeled_error_codes() | set(THROTTLING_CODES)
    standard = {
        code
        for code in candidates
        if checker.is_retryable(RetryContext(attempt_number=1, parsed_response={"Error": {"Code": code}}))
    }
    return standard | legacy_throttles


def test_the_throttling_codes_are_botocores() -> None:
    assert set(THROTTLING_CODES) == botocore_throttles()


def test_a_429_is_a_throttle_whatever_its_code_and_a_refusal_is_not() -> None:
    assert is_throttled("TooManyRequests", 429)
    assert is_throttled("SlowDown", 503)
    assert not is_throttled("AccessDenied", 403)
    assert not is_throttled("TooManyRequests", 400)


def test_the_delegates_throttle_comes_back_as_a_throttle() -> None:
    answer = {"errorType": "AwsThrottled", "errorMessage": "kms:PutKeyPolicy was throttled beyond botocore's retries"}
    error = delegated.delegate_error(answer, "arn:aws:lambda:us-east-1:111111111111:function:d")
    assert isinstance(error, AwsThrottled)
    assert "kms:PutKeyPolicy" in str(error)
