"""The workflow's wiring in template.yaml: one state machine, the bridge, the schedule, the alarms."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.cfn_template import ROOT, evaluate_conditions, resolve_conditions


def test_the_state_machine_is_a_standard_workflow_from_its_own_file(template: dict[str, Any]) -> None:
    machine = template["Resources"]["OnboardingStateMachine"]["Properties"]
    assert machine["Type"] == "STANDARD"
    assert machine["DefinitionUri"] == "statemachine/onboarding.asl.json"
    assert "Definition" not in machine


def test_every_substitution_in_the_asl_file_is_provided_and_used(template: dict[str, Any]) -> None:
    machine = template["Resources"]["OnboardingStateMachine"]["Properties"]
    text = (ROOT / machine["DefinitionUri"]).read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(machine["DefinitionSubstitutions"])


def test_every_lambda_task_retries_transient_errors_and_catches_the_rest() -> None:
    states = json.loads((ROOT / "statemachine" / "onboarding.asl.json").read_text(encoding="utf-8"))["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert len(tasks) == 9
    for name, task in tasks.items():
        retried = {error for retry in task["Retry"] for error in retry["ErrorEquals"]}
        assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "AwsThrottled"} <= retried, name
        if name != "Outputs":
            assert task["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.Failure", "Next": "Outputs"}]


def test_every_step_retries_propagation_within_a_bounded_window() -> None:
    # Right after the stack is created, IAM and the topic policy take seconds to propagate; the first
    # apply waits for them, at most 4 + 8 + 16 s per step, then fails with the cause.
    states = json.loads((ROOT / "statemachine" / "onboarding.asl.json").read_text(encoding="utf-8"))["States"]
    steps = {name: state for name, state in states.items() if state["Type"] == "Task" and name != "Outputs"}
    for name, task in steps.items():
        (retry,) = [r for r in task["Retry"] if "NotYetPropagated" in r["ErrorEquals"]]
        assert retry["ErrorEquals"] == ["NotYetPropagated", "AccessNotGranted"], name
        waits = [retry["IntervalSeconds"] * retry["BackoffRate"] ** n for n in range(retry["MaxAttempts"])]
        assert sum(waits) <= 30, name


def test_a_failed_run_ends_in_a_fail_state_with_the_cause() -> None:
    states = json.loads((ROOT / "statemachine" / "onboarding.asl.json").read_text(encoding="utf-8"))["States"]
    assert states["RunFailed"] == {"Type": "Fail", "Error": "StepFailed", "CausePath": "$.FailureCause"}


def test_the_custom_resource_fails_in_minutes_and_runs_after_every_policy(template: dict[str, Any]) -> None:
    onboarding = template["Resources"]["Onboarding"]
    assert onboarding["Type"] == "Custom::Onboarding"
    assert int(onboarding["Properties"]["ServiceTimeout"]) <= 600
    assert (
        int(onboarding["Properties"]["ServiceTimeout"])
        > template["Resources"]["BridgeFunction"]["Properties"]["Timeout"]
    )
    assert {"NotificationTopicPolicy", "NotificationQueuePolicy", "NotificationSubscription", "ExpelPolicy"} <= set(
        onboarding["DependsOn"]
    )


def test_the_schedule_checks_by_default_and_repairs_when_opted_in(template: dict[str, Any]) -> None:
    for auto_repair, mode in (("false", "check"), ("true", "repair")):
        conditions = evaluate_conditions(template, {"AutoRepair": auto_repair})
        schedule = resolve_conditions(template, conditions)["Resources"]["DriftCheck"]["Properties"]
        assert json.loads(schedule["Target"]["Input"]) == {"Mode": mode}
    assert template["Parameters"]["DriftCheckSchedule"]["Default"] == "rate(1 day)"


def test_the_drift_alarm_watches_the_metric_the_outputs_step_publishes(template: dict[str, Any]) -> None:
    alarm = template["Resources"]["DriftAlarm"]["Properties"]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert alarm["MetricName"] == "DriftedSteps"
    assert alarm["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert "DriftedSteps" in (ROOT / "functions" / "outputs" / "app.py").read_text(encoding="utf-8")


def test_alarms_email_only_when_an_address_is_given(template: dict[str, Any]) -> None:
    for email, actions in (("", None), ("secops@example.com", [{"Ref": "AlarmTopic"}])):
        resolved = resolve_conditions(template, evaluate_conditions(template, {"AlarmEmail": email}))
        assert resolved["Resources"]["DriftAlarm"]["Properties"].get("AlarmActions") == actions
