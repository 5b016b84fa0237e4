"""What Workbench is given, and the shape every function inherits."""

from __future__ import annotations

import tomllib
from typing import Any

from tests.support.cfn_template import ROOT


def test_outputs_are_what_workbench_asks_for_from_the_onboarding_run(template: dict[str, Any]) -> None:
    for name in ("RoleArn", "SqsUrl", "ManagementAccountId", "Region", "ActionRequired"):
        assert template["Outputs"][name]["Value"] == {"Fn::GetAtt": ["Onboarding", name]}


def test_the_state_machine_is_an_output_for_the_cli(template: dict[str, Any]) -> None:
    assert template["Outputs"]["StateMachineArn"]["Value"] == {"Ref": "OnboardingStateMachine"}


def test_functions_get_the_queue_url_the_run_reports(template: dict[str, Any]) -> None:
    assert template["Globals"]["Function"]["Environment"]["Variables"]["QUEUE_URL"] == {"Ref": "NotificationQueue"}


def test_functions_run_python_3_13_on_arm64_with_powertools_settings(template: dict[str, Any]) -> None:
    function = template["Globals"]["Function"]
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= set(
        function["Environment"]["Variables"]
    )


def test_layer_is_built_for_the_function_runtime(template: dict[str, Any]) -> None:
    layer = template["Resources"]["OnboardingLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_the_application_can_be_published_to_the_serverless_application_repository(
    template: dict[str, Any],
) -> None:
    application = template["Metadata"]["AWS::ServerlessRepo::Application"]
    for field in ("Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "Labels"):
        assert application[field], field
    assert (ROOT / application["LicenseUrl"]).is_file()
    assert (ROOT / application["ReadmeUrl"]).is_file()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert application["SemanticVersion"] == version
