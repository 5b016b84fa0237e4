"""What a person is told when a command cannot go on: what was found, and the fix, never a traceback.

botocore says half of it: its exceptions name what failed, not what to do. Every botocore exception class
meets a message here (tests/cli/test_explained.py builds each one), the product's errors carry their own
fix, and anything else is said in one line, with the way to see its traceback.
"""

from __future__ import annotations

import argparse
import os

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSLError,
    SSOError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.parsers import ResponseParserError

from expel_onboarding.errors import AwsThrottled, OnboardingError, RunFailed, StackNotReady, error_code
from expel_onboarding_cli.sessions import region_problem

# Set it to see the traceback of an error nobody foresaw (and to report it).
DEBUG = "EXPEL_ONBOARDING_DEBUG"
EXPIRED = ("ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired")
NOT_VALID = ("InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidAccessKeyId")
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError")


def debugging() -> bool:
    return bool(os.environ.get(DEBUG))


def explain(exc: BaseException, arguments: argparse.Namespace) -> str:
    """One line for the person: what was found, and the fix."""
    endpoint = getattr(arguments, "endpoint_url", None)
    where = f"--endpoint-url {endpoint}" if endpoint else f"--region {getattr(arguments, 'region', None) or 'default'}"
    if isinstance(exc, OnboardingError | StackNotReady | RunFailed):
        return str(exc)
    if isinstance(exc, AwsThrottled):
        return f"{exc}. AWS is busy with calls of this account: wait a minute, then run the same command again."
    if isinstance(exc, ClientError):
        return _client_error(exc)
    if isinstance(exc, ResponseParserError):
        # botocore's parser met an answer that is not an AWS API's: an HTML error page, a proxy's page.
        fix = (
            "the URL a local AWS prints when it starts"
            if endpoint
            else "a region name such as us-east-1, and any HTTPS_PROXY"
        )
        return f"the answer at {where} is not an AWS API's ({_what_came(exc)}). Check {where}: {fix}."
    if isinstance(exc, BotoCoreError):
        return _botocore_error(exc, where)
    if isinstance(exc, ValueError) and endpoint:
        return f"{exc}: check --endpoint-url {endpoint} (write it as http://host:port)."
    return (
        f"unexpected {type(exc).__name__}: {exc}. This is a defect of expel-onboarding: run the command again "
        f"with {DEBUG}=1 to see where it happened, and report that."
    )


def _client_error(exc: ClientError) -> str:
    code = error_code(exc)
    if code in EXPIRED:
        return f"{exc}: your credentials have expired. Sign in again (aws sso login, or new keys), then run again."
    if code in NOT_VALID:
        return (
            f"{exc}: AWS does not know these credentials. Check --profile (or AWS_PROFILE, AWS_ACCESS_KEY_ID), "
            "then run again."
        )
    if code in DENIED:
        return (
            f"{exc}. Use a profile whose role allows it (--profile), or ask your AWS administrators for that "
            "permission; docs/cli.md lists what each command reads."
        )
    return str(exc)


def _botocore_error(exc: BotoCoreError, where: str) -> str:
    """botocore's own errors (no AWS answer): each with the fix for its cause."""
    if isinstance(exc, InvalidRegionError):
        return (
            f"{region_problem(str(exc.kwargs.get('region_name')))}, as AWS_DEFAULT_REGION or your profile gives it. "
            "Pass --region <the stack's region>, or correct it there."
        )
    if isinstance(exc, NoRegionError):
        return (
            "no region: pass --region <the stack's region>, or set AWS_DEFAULT_REGION (or a region in your AWS "
            "profile)."
        )
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials found: pass --profile <a profile for the Log Archive account>, or set AWS_PROFILE "
            "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)."
        )
    if isinstance(exc, PartialCredentialsError):
        return f"{exc}: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile."
    if isinstance(exc, ProfileNotFound):
        return f"{exc}: name one that aws configure list-profiles shows, or configure it with aws configure --profile."
    if isinstance(exc, SSOError | TokenRetrievalError | UnauthorizedSSOTokenError):
        return f"{exc}: sign in again with aws sso login (--profile <the profile>), then run again."
    if isinstance(exc, CredentialRetrievalError):
        return f"{exc}: the profile's credential_process or source failed; run it by hand to see why."
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return f"{exc}: nothing answered there. Check {where} (a local AWS prints its URL when it starts)."
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return f"{exc}: no answer in time. Check your network (and any HTTPS_PROXY), then run again."
    if isinstance(exc, SSLError):
        return f"{exc}: TLS failed. If a proxy inspects TLS, point AWS_CA_BUNDLE at its certificate."
    if isinstance(exc, ParamValidationError):
        return f"{exc}. Check the values given to this command."
    return f"{exc}. Check --profile and {where}, then run again."


def _what_came(exc: ResponseParserError) -> str:
    """What answered, in a few words: a web page, or the start of whatever it was."""
    text = " ".join(str(exc).split())
    if "<html" in text.lower() or "<!doctype html" in text.lower():
        return "a web page came back"
    found = text.partition("received")[2].strip(" .:") or text
    return found if len(found) <= 120 else f"{found[:117]}..."
