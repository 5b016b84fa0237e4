"""The local AWS for an end-to-end test module: a fresh server, the product's caches and moto's
organizations forgotten on both sides of it (localaws.state; server.running() does both)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from localaws import server


@contextmanager
def local_aws() -> Iterator[str]:
    warnings.simplefilter("ignore")
    with server.running() as endpoint:
        yield endpoint
