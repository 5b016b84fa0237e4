from __future__ import annotations

from pathlib import Path

import pytest

from localaws import deploy


@pytest.fixture(scope="session")
def built_template() -> Path:
    """template.yaml built by sam once for the session: the build the local deploy uses (cached, and locked
    so parallel workers share it)."""
    return deploy.build()
