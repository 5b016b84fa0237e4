"""The local AWS's clock, which tests move forward instead of sleeping.

The delivery-health alarms judge 5-minute periods over 20 minutes and more: sleeping through them would
take the suite hours. The metrics the local AWS records (localaws.service_metrics) and the alarms it
evaluates (localaws.alarms) read this clock, and, while shifted() holds, so do the times moto's S3 gives
objects (LastModified), so that a log file written "an hour later" is an hour later everywhere.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from localaws import replacements

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def advance(by: timedelta) -> datetime:
    """Move the clock forward; the new now."""
    global _offset
    _offset += by
    return now()


def reset() -> None:
    global _offset
    _offset = timedelta(0)


def _moto_now() -> datetime:
    # moto keeps naive UTC times (moto.core.utils.utcnow).
    return now().replace(tzinfo=None)


@contextmanager
def shifted() -> Iterator[None]:
    """moto's S3 stamps objects with this clock (its models module's utcnow), for as long as this lasts."""
    with replacements.applied("s3-local-clock"):
        try:
            yield
        finally:
            reset()


# What the tests put in place of the Step Functions interpreter's time module (the gap
# step-functions-retries-without-waits): the ASL's Retry intervals are real seconds there, which the local
# clock does not wait. The retries themselves still run; tests/template holds the intervals.
NO_WAITS = types.SimpleNamespace(sleep=lambda _seconds: None)
