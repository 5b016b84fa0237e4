"""The workflow's wiring in template.yaml: one state machine, the bridge, the schedule, the alarms."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from expel_onboarding import custom_resource, steps
from expel_onboarding.reports import Mode
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


def asl() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads((ROOT / "statemachine" / "onboarding.asl.json").read_text(encoding="utf-8"))
    return parsed


def all_tasks(states: dict[str, Any]) -> dict[str, Any]:
    """Every Task, the preflight branches' included."""
    found = {}
    for name, state in states.items():
        if state["Type"] == "Task":
            found[name] = state
        for branch in state.get("Branches", []):
            found.update(all_tasks(branch["States"]))
    return found


def path_of(mode: Mode) -> list[tuple[str, str]]:
    """(state, ResultPath) of each top-level Task a run of mode goes through when every step succeeds."""
    states, name, path = asl()["States"], asl()["StartAt"], []
    while name:
        state = states[name]
        if state["Type"] == "Task":
            path.append((name, state.get("ResultPath", "$")))
        if state["Type"] == "Choice":
            chosen = [c["Next"] for c in state["Choices"] if c.get("StringEquals") == mode.value]
            name = chosen[0] if chosen else state["Default"]
        else:
            name = state.get("Next", "")
    return path


@pytest.mark.parametrize("mode", list(Mode), ids=str)
def test_the_asl_runs_the_steps_in_the_declared_order_into_their_own_places(mode: Mode) -> None:
    prefix = steps.REMOVE_PREFIX if mode is Mode.REMOVE else ""
    expected = [
        (step if step in (steps.DISCOVER, steps.VERIFY) else prefix + step, f"$.{step}") for step in steps.order(mode)
    ]
    assert path_of(mode) == [*expected, ("Outputs", "$")]


@pytest.mark.parametrize("mode", [Mode.APPLY, Mode.REPAIR, Mode.REMOVE], ids=str)
def test_a_writing_run_checks_every_writer_before_its_first_write(mode: Mode) -> None:
    states = asl()["States"]
    preflight = states[("Remove" if mode is Mode.REMOVE else "") + steps.PREFLIGHT_PREFIX]
    writers = steps.writers_in_order(mode)
    assert preflight["Type"] == "Parallel"
    assert preflight["ResultSelector"] == {f"{step}.$": f"$[{i}]" for i, step in enumerate(writers)}
    for branch, step in zip(preflight["Branches"], writers, strict=True):
        (task,) = branch["States"].values()
        run = states[(steps.REMOVE_PREFIX if mode is Mode.REMOVE else "") + step]
        assert task["Resource"] == run["Resource"]
        assert task["Parameters"] == {"Phase": steps.Phase.PREFLIGHT.value, "Run.$": "$"}
    (refused,) = states[preflight["Next"]]["Choices"]
    assert refused["Next"] == "Outputs"
    assert {c["Variable"] for c in refused["Or"]} == {f"$.Preflight.{step}.Status" for step in writers}


@pytest.mark.parametrize("mode", [Mode.APPLY, Mode.REMOVE], ids=str)
def test_a_writer_that_fails_after_another_wrote_undoes_that_write(mode: Mode) -> None:
    states = asl()["States"]
    first, second = steps.writers_in_order(mode)
    prefix = steps.REMOVE_PREFIX if mode is Mode.REMOVE else ""
    (catch,) = states[prefix + second]["Catch"]
    undo = states[catch["Next"]]
    assert catch["Next"] == steps.UNDO_PREFIX + first
    assert undo["Resource"] == states[prefix + first]["Resource"]
    assert undo["Parameters"] == {"Phase": steps.Phase.UNDO.value, "Run.$": "$"}
    assert undo["ResultPath"] == f"$.{steps.UNDO_PREFIX}{first}"
    assert undo["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.UndoFailure", "Next": "Outputs"}]
    assert undo["Next"] == "Outputs"


def test_every_lambda_task_retries_transient_errors_and_catches_the_rest() -> None:
    states = asl()["States"]
    tasks = all_tasks(states)
    assert len(tasks) == 15
    catches_elsewhere = {"Notification", "RemoveKeyPolicy", "UndoKeyPolicy", "UndoNotification", "Outputs"}
    for name, task in tasks.items():
        retried = {error for retry in task["Retry"] for error in retry["ErrorEquals"]}
        assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "AwsThrottled"} <= retried, name
        if name in states and name not in catches_elsewhere:
            assert task["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.Failure", "Next": "Outputs"}]
    for parallel in (state for state in states.values() if state["Type"] == "Parallel"):
        assert parallel["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.Failure", "Next": "Outputs"}]


def test_the_bridge_never_reports_while_a_step_of_its_run_may_still_be_writing(template: dict[str, Any]) -> None:
    # The run times out first; a step it started may go on for its own Timeout; then the bridge reports.
    run_timeout = asl()["TimeoutSeconds"]
    step_timeout = template["Globals"]["Function"]["Timeout"]
    bridge = template["Resources"]["BridgeFunction"]["Properties"]["Timeout"]
    assert step_timeout == custom_resource.STEP_TIMEOUT_SECONDS
    assert bridge >= run_timeout + step_timeout + custom_resource.REPORT_MARGIN_SECONDS
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function" and name != "BridgeFunction":
            assert resource["Properties"].get("Timeout", step_timeout) <= step_timeout, name


def test_every_step_retries_propagation_within_a_bounded_window() -> None:
    # Right after the stack is created, IAM and the topic policy take seconds to propagate; the first
    # apply waits for them, at most 4 + 8 + 16 s per step, then fails with the cause.
    tasks = {name: task for name, task in all_tasks(asl()["States"]).items() if name != "Outputs"}
    for name, task in tasks.items():
        (retry,) = [r for r in task["Retry"] if "NotYetPropagated" in r["ErrorEquals"]]
        assert retry["ErrorEquals"] == ["NotYetPropagated", "AccessNotGranted"], name
        waits = [retry["IntervalSeconds"] * retry["BackoffRate"] ** n for n in range(retry["MaxAttempts"])]
        assert sum(waits) <= 30, name


def test_a_failed_run_ends_in_a_fail_state_with_the_cause() -> None:
    states = asl()["States"]
    assert states["RunFailed"] == {"Type": "Fail", "Error": "StepFailed", "CausePath": "$.FailureCause"}


def test_the_custom_resource_fails_in_minutes_and_runs_after_every_policy(template: dict[str, Any]) -> None:
    onboarding = template["Resources"]["Onboarding"]
    assert onboarding["Type"] == "Custom::Onboarding"
    assert int(onboarding["Properties"]["ServiceTimeout"]) <= 900
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


def test_a_refused_delivery_takes_back_the_key_statement_the_run_added() -> None:
    states = asl()["States"]
    assert states["Notification"]["Next"] == "DeliveryRefused"
    (refused,) = states["DeliveryRefused"]["Choices"]
    # The Notification function always sets Data.Refused: a Choice on a missing path is a States.Runtime error.
    assert (refused["Variable"], refused["BooleanEquals"]) == ("$.Notification.Data.Refused", True)
    writing = ROOT / "layers/onboarding/expel_onboarding/writing_steps.py"
    assert '"Refused": bool(report.data.get("Refused"))' in writing.read_text()
    assert refused["Next"] == steps.UNDO_PREFIX + steps.KEY_POLICY
    assert states["DeliveryRefused"]["Default"] == steps.VERIFY
