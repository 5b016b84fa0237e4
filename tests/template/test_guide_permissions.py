"""The committed copy of the permission table of Expel's Control Tower guide is the guide's."""

from __future__ import annotations

import re

import pytest

from tests.support.cfn_template import ROOT
from tests.template.contract import guide_permissions

# Expel's Control Tower guide, as the project received it (beside a developer checkout only).
GUIDE = ROOT.parent / "shared" / "seed" / "000_f8be2e725023a2af.txt"
ACTION_LINE = re.compile(r"^\s*([a-z0-9-]+:[A-Za-z*]+)\s*$")


def test_copy_holds_35_distinct_actions() -> None:
    actions = guide_permissions()
    assert len(actions) == len(set(actions)) == 35


@pytest.mark.skipif(not GUIDE.exists(), reason="Expel's Control Tower guide is only beside a developer checkout")
def test_copy_matches_expels_control_tower_guide() -> None:
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    from_guide = [m.group(1) for line in lines if (m := ACTION_LINE.match(line))]
    assert from_guide == guide_permissions()
