"""`make build` works: sam build packs the domain package and its dependencies into the layer."""

from __future__ import annotations

from pathlib import Path


def test_sam_build_packs_the_layer(built_template: Path) -> None:
    build_dir = built_template.parent
    layer = build_dir / "OnboardingLayer" / "python"
    assert (layer / "expel_onboarding" / "reports.py").is_file()
    assert (layer / "crhelper").is_dir()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert built_template.is_file()
