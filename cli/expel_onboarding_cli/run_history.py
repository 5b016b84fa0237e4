"""One truth about the onboarding, read from the workflow's runs: what the newest run found, with what the
last writing run (apply or repair) could not do still standing until a later run clears it.

A check writes nothing, so it cannot meet the refusal a write meets: after an apply whose Notification
step met an explicit deny, a check sees only that our entry is missing (DRIFTED) and would advise a
repair that meets the same deny. Here that step stays ACTION_REQUIRED, with the writing run's cause and
fix, and a step that run took back because of it (its Undo row) is held back, not drift a repair puts
back. check, outputs and the stack's ActionRequired output therefore say the same thing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from expel_onboarding.reports import Status

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

WRITING_MODES = ("apply", "repair")
UNDO = "Undo"


def newest_executions(sfn: SFNClient, state_machine_arn: str) -> list[dict[str, Any]]:
    """The workflow's runs, newest first (ListExecutions answers the most recent first, Step Functions API
    reference, ListExecutions; they are sorted all the same)."""
    executions = sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
    return sorted((dict(e) for e in executions), key=lambda execution: execution["startDate"], reverse=True)


def summary_of(sfn: SFNClient, execution_arn: str) -> dict[str, Any] | None:
    """A finished run's summary (its output), or None for a run that failed or left none."""
    description = sfn.describe_execution(executionArn=execution_arn)
    if description["status"] != "SUCCEEDED":
        return None
    output = json.loads(description.get("output") or "{}")
    return output if isinstance(output, dict) and output.get("Steps") else None


def last_write(
    sfn: SFNClient, state_machine_arn: str, before: str, executions: list[dict[str, Any]] | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The newest writing run that finished, older than the run named before: its name and summary. executions:
    the workflow's runs, newest first, when the caller has listed them already."""
    older = False
    for execution in executions if executions is not None else newest_executions(sfn, state_machine_arn):
        if execution["executionArn"] == before:
            older = True
            continue
        if not older or execution["status"] != "SUCCEEDED":
            continue
        summary = summary_of(sfn, execution["executionArn"])
        if summary and summary.get("Mode") in WRITING_MODES:
            return str(execution["name"]), summary
    return None


def with_last_write(
    sfn: SFNClient,
    state_machine_arn: str,
    execution_arn: str,
    summary: dict[str, Any],
    executions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A check's summary with what the last writing run could not do still standing (see the module)."""
    if summary.get("Mode") != "check":
        return summary
    found = last_write(sfn, state_machine_arn, execution_arn, executions)
    return carried(summary, *found) if found else summary


def carried(summary: dict[str, Any], write_name: str, write: dict[str, Any]) -> dict[str, Any]:
    """summary (a check's) with the writing run's ACTION_REQUIRED steps that the check still finds DRIFTED."""
    written = {step["Name"]: step for step in write.get("Steps", [])}
    needing = [name for name, step in written.items() if step["Status"] == Status.ACTION_REQUIRED.value]
    if not needing:
        return summary
    taken_back = {
        name.removeprefix(UNDO)
        for name, step in written.items()
        if name.startswith(UNDO) and step["Status"] == Status.CHANGED.value
    }
    steps, standing = [], []
    for step in summary.get("Steps", []):
        name, drifted = step["Name"], step["Status"] == Status.DRIFTED.value
        if drifted and name in needing:
            standing.append(name)
            step = {
                **step,
                "Status": Status.ACTION_REQUIRED.value,
                "Detail": f"{step['Detail']} A repair would meet what {write_name} met: {written[name]['Detail']}",
                "Since": write_name,
            }
        elif drifted and name in taken_back:
            step = {
                **step,
                "Detail": f"{step['Detail']} {write_name} took it back because {', '.join(needing)} needs you; "
                "a repair adds it again once that is fixed.",
                "HeldBack": True,
            }
        steps.append(step)
    if not standing:
        return summary
    action = sorted({*summary.get("ActionRequired", []), *standing})
    return {**summary, "Steps": steps, "ActionRequired": action}


def drifted(summary: dict[str, Any]) -> list[str]:
    """The steps a repair can put back: drift that no person's action holds back."""
    return [
        step["Name"]
        for step in summary.get("Steps", [])
        if step["Status"] == Status.DRIFTED.value and not step.get("HeldBack")
    ]


def actions(summary: dict[str, Any]) -> list[dict[str, str]]:
    """Each step that needs a person, with its cause and fix (its detail)."""
    return [
        {"Name": step["Name"], "Detail": step["Detail"]}
        for step in summary.get("Steps", [])
        if step["Status"] == Status.ACTION_REQUIRED.value
    ]
