from __future__ import annotations

import fcntl
import gc
import os
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

from localaws import sam_build


@pytest.fixture(scope="session")
def built_template() -> Path:
    """template.yaml built by sam once for the session: the build the local deploy uses (cached, and locked
    so parallel workers share it)."""
    return sam_build.build()


# make pytest hands whole files to the xdist workers in collection order (--dist loadfile
# --no-loadscope-reorder). The longest go first, so that no worker is left alone with one at the end.
LONGEST_FIRST = (
    "tests/cli/test_first_hour_mistakes.py",
    "tests/workflow/test_whole_run_faults.py",
    "tests/workflow/",
    "tests/unit/test_key_policy_text.py",
    "tests/e2e/",
    "tests/servicecatalog/test_product.py",
    "tests/cli/test_plan.py",
    "tests/unit/test_key_policy_merge.py",
    "tests/unit/test_key_policy_scanner.py",
    "tests/unit/test_notification_merge.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next((index for index, slow in enumerate(LONGEST_FIRST) if path.startswith(slow)), len(LONGEST_FIRST))

    items.sort(key=rank)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported so far (boto3, moto's every service, the tests) lives until the end: moved out
    of the garbage collector's sight, each collection walks only what the tests make (4 % of the CPU)."""
    gc.freeze()


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    """On a fresh clone, xdist's workers collect one after the other: the first compiles our modules and
    rewrites the test modules' asserts (about 10 s of CPU for both), and the next finds that bytecode
    written instead of making it too; the other core runs the static checks meanwhile (make test). Once
    the bytecode is there, they collect side by side."""
    root = Path(session.config.rootpath)
    # A collection that finished since the tests last changed left the bytecode: a marker of our own says so.
    collected = root / ".pytest_cache" / "collected-since-the-tests-changed"
    newest = max(path.stat().st_mtime for path in (root / "tests").rglob("*.py"))
    written = collected.exists() and collected.stat().st_mtime >= newest
    if "PYTEST_XDIST_WORKER" not in os.environ or written or sys.dont_write_bytecode:
        return (yield)
    collected.parent.mkdir(exist_ok=True)
    with (collected.parent / "collection.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = yield
        collected.touch()
        return result
