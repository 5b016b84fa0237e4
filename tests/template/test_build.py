"""`make build` works: sam build packs the domain package and its dependencies into the layer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.cfn_template import ROOT

SAM = ROOT / ".venv-tools" / "sam" / "bin" / "sam"


def test_sam_build_packs_the_layer(tmp_path: Path) -> None:
    # The function runtime's python must come first on PATH; pytest itself runs on python3.13.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    build_dir = tmp_path / "build"
    subprocess.run(  # noqa: S603 - a fixed command line
        [str(SAM), "build", "--template", str(ROOT / "template.yaml"), "--build-dir", str(build_dir)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    layer = build_dir / "OnboardingLayer" / "python"
    assert (layer / "expel_onboarding" / "reports.py").is_file()
    assert (layer / "crhelper").is_dir()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert (build_dir / "template.yaml").is_file()
