"""What every step returns: a status, a sentence for people, and data for the next step."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    APPLY = "apply"
    CHECK = "check"
    REPAIR = "repair"
    REMOVE = "remove"

    @property
    def writes(self) -> bool:
        return self is not Mode.CHECK


class Status(StrEnum):
    OK = "OK"
    CHANGED = "CHANGED"
    DRIFTED = "DRIFTED"
    ACTION_REQUIRED = "ACTION_REQUIRED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class StepReport:
    name: str
    status: Status
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)
    # What a later undo needs to put back this step's write; absent when the step wrote nothing. Kept out
    # of the run's summary: it is for the state machine, not for people.
    undo: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        answer = {"Name": self.name, "Status": self.status.value, "Detail": self.detail, "Data": dict(self.data)}
        if self.undo is not None:
            answer["Undo"] = dict(self.undo)
        return answer


def kept(name: str, why: str) -> StepReport:
    """The report of a step that had nothing to do in this run."""
    return StepReport(name, Status.OK, why, {})


def undone(report: StepReport) -> StepReport:
    """The report of a step's undo: what the undoing write (or its absence) did."""
    return StepReport(report.name, report.status, f"Undone: {report.detail}", report.data)
