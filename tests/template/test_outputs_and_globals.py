"""What Workbench is given, and the shape every function inherits."""

from __future__ import annotations

from typing import Any


def test_outputs_are_what_workbench_asks_for(template: dict[str, Any]) -> None:
    assert {"RoleArn", "SqsUrl", "Region"} <= set(template["Outputs"])
    assert template["Outputs"]["SqsUrl"]["Value"] == {"Ref": "NotificationQueue"}
    assert template["Outputs"]["Region"]["Value"] == {"Ref": "AWS::Region"}


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
