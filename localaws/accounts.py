"""The local landing zone's accounts, and acting as one of them, in the in-process mock and against the
local server alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from localaws import request_headers

# The local landing zone's accounts. The Log Archive is moto's default account (its DEFAULT_ACCOUNT_ID,
# spelled out so that the client commands need not import moto; a test holds them equal), which
# everything acts from: acting as it without MOTO_ACCOUNT_ID keeps moto's AssumeRole account switching.
MANAGEMENT = "111111111111"
LOG_ARCHIVE = "123456789012"
AUDIT = "222222222222"
# The member accounts `python -m localaws seed` creates, in order (the local AWS server hands them these ids).
MEMBERS = {LOG_ARCHIVE: "Log Archive", AUDIT: "Audit"}
REGION = "us-east-1"


@contextmanager
def as_account(account: str) -> Iterator[None]:
    """Make calls as another account of the organization, then act as before.

    moto reads the account from a request header, so this works against the in-process mock and
    against a local AWS server in another process alike. A client made with boto3 must be made inside
    the block; localaws.clients hooks the header into every client it keeps."""
    with request_headers.acting_as(account):
        yield
