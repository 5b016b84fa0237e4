from __future__ import annotations

import gc
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
