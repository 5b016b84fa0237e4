"""Every error a person can meet is said in one line with its fix: each botocore exception class, the
product's own errors, and the unforeseen (which names the way to its traceback)."""

from __future__ import annotations

import argparse
import inspect
import string
from typing import Any

import botocore.exceptions
import pytest
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from expel_onboarding.errors import AwsThrottled, InvalidInput, RunFailed, StackNotReady
from expel_onboarding_cli import explained

ARGUMENTS = argparse.Namespace(endpoint_url=None, region="us-east-1", profile=None)


def every_botocore_error() -> list[type[BotoCoreError]]:
    return sorted(
        (
            found
            for _, found in inspect.getmembers(botocore.exceptions, inspect.isclass)
            if issubclass(found, BotoCoreError)
        ),
        key=lambda found: found.__name__,
    )


def made(kind: type[BotoCoreError]) -> BotoCoreError:
    """An instance, with every field its message names (botocore formats fmt with the keyword arguments)."""
    fields = {name: f"<{name}>" for _, name, _, _ in string.Formatter().parse(kind.fmt) if name}
    # A few take named arguments of their own (WaiterError's last_response).
    for name, parameter in inspect.signature(kind.__init__).parameters.items():
        if (
            name != "self"
            and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
            and parameter.default is parameter.empty
        ):
            fields.setdefault(name, f"<{name}>")
    return kind(**fields)


@pytest.mark.parametrize("kind", every_botocore_error(), ids=lambda kind: kind.__name__)
def test_every_botocore_error_is_said_with_a_fix(kind: type[BotoCoreError]) -> None:
    said = explained.explain(made(kind), ARGUMENTS)
    assert said
    assert "defect" not in said, said
    # What botocore found, then what to do: a sentence after its message.
    assert len(said) > len(str(made(kind))) + 10, said


FIXES: list[tuple[Any, str]] = [
    (botocore.exceptions.NoRegionError(), "pass --region"),
    (botocore.exceptions.InvalidRegionError(region_name="us-east-1a"), "--region us-east-1"),
    (botocore.exceptions.NoCredentialsError(), "pass --profile"),
    (botocore.exceptions.ProfileNotFound(profile="nosuch"), "aws configure list-profiles"),
    (botocore.exceptions.TokenRetrievalError(provider="sso", error_msg="expired"), "aws sso login"),
    (botocore.exceptions.EndpointConnectionError(endpoint_url="https://x"), "nothing answered there"),
    (botocore.exceptions.ReadTimeoutError(endpoint_url="https://x"), "Check your network"),
    (ResponseParserError("Unable to parse response, invalid XML received: b'<!doctype html>'"), "not an AWS API's"),
    (ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetCallerIdentity"), "Sign in again"),
    (ClientError({"Error": {"Code": "InvalidClientTokenId", "Message": "no"}}, "GetCallerIdentity"), "--profile"),
    (ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "DescribeStacks"), "permission"),
    (AwsThrottled("cloudformation", "DescribeStacks", "Throttling"), "wait a minute"),
    (InvalidInput("found", "the fix"), "To fix it: the fix"),
    (StackNotReady("No stack x: pass --stack-name"), "pass --stack-name"),
    (RunFailed("the cause", "arn:aws:states:us-east-1:1:execution:m:r"), "the cause"),
    (KeyError("unforeseen"), f"{explained.DEBUG}=1"),
]


@pytest.mark.parametrize(("error", "fix"), FIXES, ids=lambda value: type(value).__name__)
def test_each_cause_has_its_own_fix(error: Exception, fix: str) -> None:
    assert fix in explained.explain(error, ARGUMENTS)
