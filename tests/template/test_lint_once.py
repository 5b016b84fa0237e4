"""Each template is linted once in make test, by cfn-lint (`make cfn-lint`, which expands SAM's transform
itself). `make validate` runs the same cfn-lint through SAM CLI, pinned to the same version, for whoever
wants SAM CLI's word on the two SAM templates; make test does not run it a second time."""

from __future__ import annotations

import re
import shutil
import subprocess

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


def test_make_test_lints_every_template_with_cfn_lint_and_none_twice() -> None:
    make = shutil.which("make")
    assert make, "make is not on PATH"
    dry_run = subprocess.run(  # noqa: S603 - a fixed command line
        [make, "--dry-run", "--no-print-directory", "cfn-lint"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    lint = next(line for line in dry_run.splitlines() if "bin/cfn-lint " in line)
    assert lint.split("bin/cfn-lint ", 1)[1].split() == make_variable("TEMPLATES")
    assert "cfn-lint" in make_variable("CHECKS")
    assert "validate" not in make_variable("CHECKS")


def test_sam_validate_lints_exactly_the_templates_with_the_sam_transform() -> None:
    every = make_variable("TEMPLATES")
    with_transform = [name for name in every if "Transform" in templates.read(ROOT / name)]
    assert make_variable("SAM_TEMPLATES") == with_transform
