"""The local AWS for an end-to-end test module: a fresh server, and the product's cached clients made
anew on both sides of it (they would otherwise keep pointing at the last server)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from expel_onboarding import clients
from localaws import server


@contextmanager
def local_aws() -> Iterator[str]:
    warnings.simplefilter("ignore")
    clients.reset()
    try:
        with server.running() as endpoint:
            yield endpoint
    finally:
        clients.reset()
