"""Starting an onboarding run and waiting for it: shared by the custom resource and the CLI.

There is one orchestration path. CloudFormation, the schedule and people all start the same state
machine; this module only starts it, follows it and reads its answer.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from expel_onboarding import clients, steps
from expel_onboarding.errors import AwsThrottled, RunFailed

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

RUNNING = "RUNNING"
# A run in these ended while a step may still be running.
STOPPED_MID_STEP = ("TIMED_OUT", "ABORTED")
MAX_POLL_SECONDS = 2.0
OUTPUTS_STATE = "Outputs"


def run_name(mode: str, caller: str) -> str:
    """A readable, unique execution name, such as check-cli-20261126T230501-1a2b3c4d."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"{mode}-{caller}-{stamp}-{uuid.uuid4().hex[:8]}"


def start(
    sfn: SFNClient,
    state_machine_arn: str,
    run_input: dict[str, Any],
    name: str,
    *,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """Start a run. The name makes the start idempotent: the same name and input return the same run, so a
    throttled start is simply made again."""
    execution = clients.again_when_throttled(
        lambda: sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(run_input)),
        sleep=sleep,
    )
    return str(execution["executionArn"])


def wait(
    sfn: SFNClient,
    execution_arn: str,
    *,
    timeout_seconds: float,
    poll_seconds: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The finished run's description; RunFailed if it is still running at the deadline.

    Polling starts fast (a converged run takes about a second) and slows to every 2 s.
    """
    deadline = clock() + timeout_seconds
    while True:
        try:
            description: Any = sfn.describe_execution(executionArn=execution_arn)
        except AwsThrottled:
            # A throttled poll says nothing about the run: poll again, later, until the deadline.
            description = {"status": RUNNING}
        if description["status"] != RUNNING:
            return dict(description)
        if clock() >= deadline:
            raise RunFailed(
                f"The run was still running after {timeout_seconds:.0f} s; it may yet finish. Check it, then retry.",
                execution_name=execution_arn.rsplit(":", 1)[-1],
            )
        sleep(poll_seconds)
        poll_seconds = min(poll_seconds * 1.5, MAX_POLL_SECONDS)


def let_running_steps_finish(
    description: dict[str, Any],
    step_timeout_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Wait until no step of a stopped run can still be writing.

    A run that timed out or was aborted ends without its running Task: Step Functions does not stop a
    Lambda invocation it started, which goes on until it returns or reaches its own Timeout (Step
    Functions Developer Guide, "State machine structure in Amazon States Language", TimeoutSeconds; Lambda
    Developer Guide, "Configure Lambda function timeout"). A run that succeeded or failed has no such step.
    """
    if description["status"] not in STOPPED_MID_STEP:
        return
    stopped = description.get("stopDate") or now()
    remaining = (stopped - now()).total_seconds() + step_timeout_seconds
    if remaining > 0:
        sleep(remaining)


def result(description: dict[str, Any]) -> dict[str, Any]:
    """The run's output, or RunFailed with its cause in words."""
    if description["status"] == "SUCCEEDED":
        output: dict[str, Any] = json.loads(description.get("output") or "{}")
        return output
    cause = description.get("cause") or description.get("error") or "no cause given"
    raise RunFailed(str(cause), execution_name=str(description["executionArn"]).rsplit(":", 1)[-1])


def history(sfn: SFNClient, execution_arn: str) -> Iterator[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    for page in pages:
        for event in page["events"]:
            yield dict(event)


def finished_steps(events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(state name, its report) for every step state that has exited, in order."""
    found = []
    for event in events:
        details = event.get("stateExitedEventDetails")
        if details and details.get("name") != OUTPUTS_STATE:
            output = json.loads(details.get("output") or "{}")
            name = str(details["name"])
            # An undo's report has its own place; a removal's and a step's share the step's.
            step = name if name.startswith(steps.UNDO_PREFIX) else steps.step_of(name)
            report = output.get(step)
            if isinstance(report, dict) and "Status" in report:
                found.append((step, report))
    return found


def summary_from_history(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The Outputs state's answer, which a failed run does not return as its output."""
    for event in reversed(events):
        details = event.get("stateExitedEventDetails")
        if details and details.get("name") == OUTPUTS_STATE:
            summary: dict[str, Any] = json.loads(details.get("output") or "{}")
            return summary
    return None
