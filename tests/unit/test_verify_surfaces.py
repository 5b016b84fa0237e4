"""A Verify problem shows the same way everywhere: the run summary, the stack outputs and the CLI's exit code."""

from __future__ import annotations

from typing import Any

import pytest

from expel_onboarding import custom_resource, steps, summary
from expel_onboarding.reports import Mode, Status, StepReport
from expel_onboarding_cli import cli
from tests.unit.test_custom_resource_moves import SETTINGS

PROBLEM = "The Expel role may not kms:Decrypt on arn:aws:kms:us-east-1:111111111111:key/k (implicitDeny)."


def run_state(mode: str, **statuses: Status) -> dict[str, Any]:
    """The state machine's state at Outputs: every step OK unless statuses says otherwise."""
    state: dict[str, Any] = {"Mode": mode}
    for name in steps.order(Mode(mode)):
        status = statuses.get(name, Status.OK)
        state[name] = StepReport(name, status, PROBLEM if status is not Status.OK else "fine").to_dict()
    return state


def test_a_verify_problem_after_apply_is_named_in_the_summary_and_the_stack_outputs() -> None:
    run = summary.summarize(run_state("apply", Verify=Status.ACTION_REQUIRED), SETTINGS)
    assert run["Failed"] is False
    assert run["ActionRequired"] == ["Verify"]
    assert custom_resource.workbench_values(run)["ActionRequired"] == "Verify"
    assert {"Name": "Verify", "Status": "ACTION_REQUIRED", "Detail": PROBLEM} in run["Steps"]


def test_the_cli_exits_three_when_a_step_needs_action() -> None:
    run = summary.summarize(run_state("repair", Verify=Status.ACTION_REQUIRED), SETTINGS)
    assert cli.exit_code(run) == cli.EXIT_ACTION_REQUIRED == 3


def test_a_verify_problem_in_a_check_is_drift() -> None:
    run = summary.summarize(run_state("check", Verify=Status.DRIFTED), SETTINGS)
    assert run["ActionRequired"] == []
    assert cli.exit_code(run) == cli.EXIT_DRIFTED


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ({}, cli.EXIT_OK),
        ({"Notification": Status.DRIFTED, "Verify": Status.ACTION_REQUIRED}, cli.EXIT_DRIFTED),
        ({"KeyPolicy": Status.ACTION_REQUIRED, "Verify": Status.FAILED}, cli.EXIT_FAILED),
    ],
    ids=["all-ok", "drift-before-action", "failure-before-all"],
)
def test_the_exit_code_names_the_most_urgent_finding(statuses: dict[str, Status], code: int) -> None:
    assert cli.exit_code(summary.summarize(run_state("check", **statuses), SETTINGS)) == code
