"""statemachine/onboarding.asl.json is generated (scripts/state_machine.py, `make asl`), where each Retry and
Catch is declared once and the orders come from expel_onboarding.steps: the committed file is its output."""

from __future__ import annotations

from scripts import state_machine


def test_the_committed_definition_is_what_its_source_generates() -> None:
    committed = state_machine.DEFINITION.read_text(encoding="utf-8")
    assert committed == state_machine.text(), "run make asl and commit statemachine/onboarding.asl.json"


def test_each_task_retries_from_the_one_declaration() -> None:
    tasks = [
        state
        for top in state_machine.definition()["States"].values()
        for state in [top, *(s for branch in top.get("Branches", []) for s in branch["States"].values())]
        if state["Type"] == "Task"
    ]
    assert len(tasks) == 15
    for state in tasks:
        assert state["Retry"] in (state_machine.STEP_RETRIES, state_machine.OUTPUTS_RETRIES)
        assert state["Retry"][0] is state_machine.LAMBDA_ERRORS
        assert state["Retry"][1] is state_machine.THROTTLED
