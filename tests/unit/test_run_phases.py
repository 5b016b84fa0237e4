"""How a step learns its phase, and how the bridge waits for a stopped run's last step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from expel_onboarding import workflow
from expel_onboarding.errors import InvalidInput
from expel_onboarding.reports import Mode
from expel_onboarding.settings import StepEvent
from expel_onboarding.steps import Phase

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
RUN = {"Mode": "apply", "Discover": {"Name": "Discover", "Status": "OK", "Detail": "", "Data": {"Bucket": "b"}}}


def test_a_step_run_plainly_is_in_its_run_phase() -> None:
    step = StepEvent.parse(RUN)
    assert (step.phase, step.mode, step.discovered) == (Phase.RUN, Mode.APPLY, {"Bucket": "b"})


def test_a_wrapped_state_names_the_phase_and_carries_the_run() -> None:
    state = {**RUN, "KeyPolicy": {"Name": "KeyPolicy", "Status": "CHANGED", "Detail": "", "Undo": {"Remove": True}}}
    step = StepEvent.parse({"Phase": "undo", "Run": state})
    assert (step.phase, step.mode) == (Phase.UNDO, Mode.APPLY)
    assert step.undo_record("KeyPolicy") == {"Remove": True}
    assert step.undo_record("Notification") == {}


def test_an_unknown_phase_is_refused_with_the_ones_there_are() -> None:
    with pytest.raises(InvalidInput, match="Phase one of run, preflight, undo"):
        StepEvent.parse({"Phase": "later", "Run": RUN})


@pytest.mark.parametrize("status", ["TIMED_OUT", "ABORTED"])
def test_a_stopped_run_is_reported_only_after_its_last_step_can_have_ended(status: str) -> None:
    slept: list[float] = []
    description = {"status": status, "stopDate": NOW - timedelta(seconds=15)}
    workflow.let_running_steps_finish(description, 60, sleep=slept.append, now=lambda: NOW)
    assert slept == [45.0]


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED"])
def test_a_finished_run_has_no_step_still_running(status: str) -> None:
    slept: list[float] = []
    workflow.let_running_steps_finish({"status": status}, 60, sleep=slept.append, now=lambda: NOW)
    assert slept == []
