"""The local landing zone's accounts, and acting as one of them, in the in-process mock and against the
local server alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import boto3
from moto.core.models import DEFAULT_ACCOUNT_ID

# The local landing zone's accounts. The Log Archive is moto's default account, which everything acts
# from: acting as it without MOTO_ACCOUNT_ID keeps moto's AssumeRole account switching working.
MANAGEMENT = "111111111111"
LOG_ARCHIVE = DEFAULT_ACCOUNT_ID
AUDIT = "222222222222"
# The member accounts the seed creates, in order (the local AWS server hands them these ids).
MEMBERS = {LOG_ARCHIVE: "Log Archive", AUDIT: "Audit"}
REGION = "us-east-1"

_ACTING_AS: ContextVar[str | None] = ContextVar("acting_as", default=None)


def _add_account_header(request: Any, **_: Any) -> None:
    account = _ACTING_AS.get()
    if account is not None:
        request.headers["x-moto-account-id"] = account


def hook_account_header(events: Any) -> None:
    """Sign requests with the account as_account() names (a client or session's event hooks)."""
    events.register("before-sign", _add_account_header, unique_id="localaws-account-header")


@contextmanager
def as_account(account: str) -> Iterator[None]:
    """Make calls as another account of the organization, then act as before.

    moto reads the account from a request header, so this works against the in-process mock and
    against a local AWS server in another process alike. A client made with boto3 must be made inside
    the block; localaws.clients hooks the header into every client it keeps."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    if session is None:  # setup_default_session sets it; mypy cannot know
        raise RuntimeError("boto3 has no default session")
    hook_account_header(session.events)
    token = _ACTING_AS.set(account)
    try:
        yield
    finally:
        _ACTING_AS.reset(token)
