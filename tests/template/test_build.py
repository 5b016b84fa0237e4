"""`make build` works: sam build packs the domain package and its dependencies into the layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from localaws import ROOT, deploy, sam_build, sam_transform, templates


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


def test_an_artifact_is_zipped_once_per_build_and_read_back_by_the_next_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = tmp_path / "OnboardingLayer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "module.py").write_text("VALUE = 1\n", encoding="utf-8")
    first = deploy._zipped_build(layer, "build one")
    assert first == deploy.zipped(layer)
    deploy._zipped_build.cache_clear()  # as the next process starts

    def never(folder: Path) -> bytes:
        raise AssertionError(f"{folder} zipped again")

    with monkeypatch.context() as patched:
        patched.setattr(deploy, "zipped", never)
        assert deploy._zipped_build(layer, "build one") == first
    # Another build (its stamp) is zipped afresh.
    (layer / "python" / "module.py").write_text("VALUE = 2\n", encoding="utf-8")
    assert deploy._zipped_build(layer, "build two") == deploy.zipped(layer) != first
    assert [path.name for path in (tmp_path / deploy.ZIPS).iterdir() if path.name.startswith(".")] == []


def test_the_artifacts_are_the_folders_the_built_template_names_not_the_zips_kept_beside_them(
    built_template: Path,
) -> None:
    folders = deploy.artifact_folders(built_template)
    assert built_template.parent / "OnboardingLayer" in folders
    assert built_template.parent / "LocateFunction" in folders  # a plain AWS::Lambda::Function's Code
    assert all(folder.is_dir() and folder.parent == built_template.parent for folder in folders)
    assert built_template.parent / deploy.ZIPS not in folders


SMALL = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {
        "Function": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"CodeUri": "s3://artifacts/Function.zip", "Handler": "app.handler", "Runtime": "python3.13"},
        }
    },
}


def test_a_packaged_template_is_expanded_once_per_region_and_read_back_by_the_next_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "EXPANDED", tmp_path)
    first = deploy._expanded(SMALL, "us-east-1")
    assert first == sam_transform.expand(SMALL, "us-east-1")
    assert "AWS::Lambda::Function" in {resource["Type"] for resource in first["Resources"].values()}

    def never(template: dict[str, object], region: str) -> dict[str, object]:
        raise AssertionError(f"expanded again for {region}")

    with monkeypatch.context() as patched:
        patched.setattr(sam_transform, "expand", never)
        assert deploy._expanded(SMALL, "us-east-1") == first
        with pytest.raises(AssertionError, match="expanded again for eu-west-1"):
            deploy._expanded(SMALL, "eu-west-1")
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []
