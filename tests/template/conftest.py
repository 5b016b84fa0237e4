from __future__ import annotations

import copy
from typing import Any

import pytest

from localaws import templates
from tests.support.cfn_template import ROOT

_TEMPLATE = templates.read(ROOT / "template.yaml")


@pytest.fixture
def template() -> dict[str, Any]:
    """A fresh copy of template.yaml, safe for a test to mutate."""
    return copy.deepcopy(_TEMPLATE)
