"""The steps of a run and their order, declared once.

The state machine (statemachine/onboarding.asl.json) must follow these orders; a contract test holds it
to them. Converging writes the key policy before the notification (an entry must never point at a topic
whose events Workbench cannot decrypt); removing goes the other way.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from expel_onboarding.errors import AccessNotGranted, AwsThrottled, NotYetPropagated, OnboardingError
from expel_onboarding.reports import Mode, Status, StepReport

DISCOVER, OWNERSHIP, KEY_POLICY, NOTIFICATION, VERIFY = "Discover", "Ownership", "KeyPolicy", "Notification", "Verify"

CONVERGE = (DISCOVER, OWNERSHIP, KEY_POLICY, NOTIFICATION, VERIFY)
REMOVE = (DISCOVER, NOTIFICATION, KEY_POLICY, OWNERSHIP)
# The steps that write. A run that writes checks every one of them (its preflight) before its first write,
# and a run that fails after a write undoes the writes before it, in reverse order.
WRITERS = frozenset({KEY_POLICY, NOTIFICATION})

# State names: a removal's states are "Remove<step>", an undo's "Undo<step>", a preflight's "Preflight<step>".
REMOVE_PREFIX, UNDO_PREFIX, PREFLIGHT_PREFIX = "Remove", "Undo", "Preflight"


class Phase(StrEnum):
    """What a step is asked to do in its run's mode."""

    # Read, decide and write: the step's ordinary work.
    RUN = "run"
    # Every read and every check a write would need, and no write: refusals surface before any step writes.
    PREFLIGHT = "preflight"
    # Put back what this step wrote earlier in the run, because a later step failed.
    UNDO = "undo"


def order(mode: Mode) -> tuple[str, ...]:
    return REMOVE if mode is Mode.REMOVE else CONVERGE


def writers_in_order(mode: Mode) -> tuple[str, ...]:
    return tuple(step for step in order(mode) if step in WRITERS)


def step_of(state_name: str) -> str:
    """The step a state runs: "RemoveKeyPolicy" and "UndoKeyPolicy" run KeyPolicy."""
    for prefix in (REMOVE_PREFIX, UNDO_PREFIX, PREFLIGHT_PREFIX):
        if state_name.startswith(prefix) and state_name.removeprefix(prefix) in CONVERGE:
            return state_name.removeprefix(prefix)
    return state_name


# The state machine retries these (statemachine/onboarding.asl.json); a preflight lets them through to it.
RETRIED = (AwsThrottled, NotYetPropagated, AccessNotGranted)


def preflight(name: str, plan: Callable[[], StepReport]) -> StepReport:
    """A step's preflight as a report: a refusal the write would meet becomes FAILED, so the run stops
    before its first write and names the step and the fix."""
    try:
        return plan()
    except RETRIED:
        raise
    except OnboardingError as exc:
        detail = f"{type(exc).__name__}: {exc} Nothing was written: every step is checked before the first write."
        return StepReport(name, Status.FAILED, detail, {"Preflight": True})


def by_phase(
    name: str,
    phase: Phase,
    converge: Callable[[bool], StepReport],
    undo: Callable[[], StepReport],
) -> StepReport:
    """A writing step's one dispatch: its ordinary run (converge(False)), its preflight (converge(True): every
    read and check, no write), or the undo of what it wrote earlier in the run."""
    if phase is Phase.UNDO:
        return undo()
    if phase is Phase.PREFLIGHT:
        return preflight(name, lambda: converge(True))
    return converge(False)
