"""`make build` works: sam build packs the domain package and its dependencies into the layer."""

from __future__ import annotations

from pathlib import Path

from localaws import ROOT, sam_build, templates


def test_sam_build_packs_the_layer(built_template: Path) -> None:
    build_dir = built_template.parent
    layer = build_dir / "OnboardingLayer" / "python"
    assert (layer / "expel_onboarding" / "reports.py").is_file()
    assert (layer / "crhelper").is_dir()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert built_template.is_file()


def test_the_org_build_builds_the_delegate_and_takes_the_log_archive_builds_layer(built_template: Path) -> None:
    org = templates.parse(sam_build.build_org().read_text(encoding="utf-8"))["Resources"]
    assert org["DelegateLayer"]["Properties"]["ContentUri"] == str(built_template.parent / "OnboardingLayer")
    code = sam_build.ORG_BUILD / org["KeyPolicyDelegate"]["Properties"]["CodeUri"]
    assert (code / "app.py").read_bytes() == (ROOT / "functions" / "key_policy_delegate" / "app.py").read_bytes()
