"""The committed copy of the seed's permission table is the seed's."""

from __future__ import annotations

import re

import pytest

from tests.support.cfn_template import ROOT
from tests.template.contract import seed_permissions

SEED_GUIDE = ROOT.parent / "shared" / "seed" / "000_f8be2e725023a2af.txt"
ACTION_LINE = re.compile(r"^\s*([a-z0-9-]+:[A-Za-z*]+)\s*$")


def test_copy_holds_35_distinct_actions() -> None:
    actions = seed_permissions()
    assert len(actions) == len(set(actions)) == 35


@pytest.mark.skipif(not SEED_GUIDE.exists(), reason="the seed guide is only beside a developer checkout")
def test_copy_matches_the_seed_guide() -> None:
    lines = SEED_GUIDE.read_text(encoding="utf-8").splitlines()
    from_guide = [m.group(1) for line in lines if (m := ACTION_LINE.match(line))]
    assert from_guide == seed_permissions()
