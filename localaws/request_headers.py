"""What localaws adds to a request as it is signed: the account to act as (moto reads x-moto-account-id)
and the resource a service acts for (trust_policies reads it, as AWS passes aws:SourceArn and
aws:SourceAccount to a role's trust policy).

Context variables hold both, so one client serves any account and any source: the hook goes on boto3's
default session (so every client made after it carries them) and on every client localaws.clients keeps.
This module imports no moto: the client commands (python -m localaws seed, deploy, destroy) use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import boto3

ACCOUNT_HEADER = "x-moto-account-id"
SOURCE_ARN_HEADER = "x-localaws-source-arn"
SOURCE_ACCOUNT_HEADER = "x-localaws-source-account"
PRINCIPAL_HEADER = "x-localaws-principal-arn"
_ACCOUNT: ContextVar[str | None] = ContextVar("account", default=None)
_PRINCIPAL: ContextVar[str | None] = ContextVar("principal", default=None)
_SOURCE: ContextVar[tuple[str, str] | None] = ContextVar("source", default=None)


def _add(request: Any, **_: Any) -> None:
    account, source, principal = _ACCOUNT.get(), _SOURCE.get(), _PRINCIPAL.get()
    if account is not None:
        request.headers[ACCOUNT_HEADER] = account
    if principal is not None:
        request.headers[PRINCIPAL_HEADER] = principal
    if source is not None:
        request.headers[SOURCE_ARN_HEADER], request.headers[SOURCE_ACCOUNT_HEADER] = source


def hook(events: Any) -> None:
    """Add the headers to every request signed through these event hooks (a session's or a client's)."""
    events.register("before-sign", _add, unique_id="localaws-request-headers")


def default_session() -> boto3.Session:
    """boto3's default session, made if there is none, with the hook on it."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    if session is None:  # setup_default_session sets it; mypy cannot know
        raise RuntimeError("boto3 has no default session")
    hook(session.events)
    return session


@contextmanager
def acting_as(account: str) -> Iterator[None]:
    """Calls made as another account (accounts.as_account, which the landing zone's code uses)."""
    default_session()
    token = _ACCOUNT.set(account)
    try:
        yield
    finally:
        _ACCOUNT.reset(token)


@contextmanager
def on_behalf_of(source_arn: str, source_account: str) -> Iterator[None]:
    """Calls made as a service acting for a resource: AssumeRole requests carry aws:SourceArn and
    aws:SourceAccount, as a service passes them (trust_policies evaluates them). A client made with boto3
    must be made inside the block; localaws.clients hooks the headers into every client it keeps."""
    default_session()
    token = _SOURCE.set((source_arn, source_account))
    try:
        yield
    finally:
        _SOURCE.reset(token)


@contextmanager
def as_principal(principal_arn: str) -> Iterator[None]:
    """Calls made as a Lambda function's execution role, as Lambda makes them (localaws.function_policies
    reads it as aws:PrincipalArn): the local functions sign with the local AWS's own keys."""
    default_session()
    token = _PRINCIPAL.set(principal_arn)
    try:
        yield
    finally:
        _PRINCIPAL.reset(token)
