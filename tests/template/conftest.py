from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.cfn_template import ROOT, load_template

_TEMPLATE = load_template(ROOT / "template.yaml")


@pytest.fixture
def template() -> dict[str, Any]:
    """A fresh copy of template.yaml, safe for a test to mutate."""
    return copy.deepcopy(_TEMPLATE)
