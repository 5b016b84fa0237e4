"""Each template is linted once, by the same cfn-lint: `sam validate --lint` (cfn-lint through SAM CLI) on
the templates with SAM's transform, `make cfn-lint` on the others."""

from __future__ import annotations

import re

from localaws import templates
from tests.support.cfn_template import ROOT


def pins(requirements: str) -> dict[str, str]:
    text = (ROOT / "requirements" / requirements).read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, flags=re.MULTILINE))


def make_variable(name: str) -> list[str]:
    found = re.search(rf"^{name} := (.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert found, name
    return found.group(1).split()


def test_sam_validate_lints_with_the_cfn_lint_make_cfn_lint_runs() -> None:
    assert pins("sam.txt")["cfn-lint"] == pins("dev.txt")["cfn-lint"]


def test_sam_validate_lints_exactly_the_templates_with_the_sam_transform() -> None:
    every = make_variable("TEMPLATES")
    with_transform = [name for name in every if "Transform" in templates.read(ROOT / name)]
    assert make_variable("SAM_TEMPLATES") == with_transform
    assert len(with_transform) < len(every)  # and make cfn-lint has the rest
