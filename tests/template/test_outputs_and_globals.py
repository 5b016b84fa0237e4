"""What Workbench is given, and the shape every function inherits."""

from __future__ import annotations

from typing import Any


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
