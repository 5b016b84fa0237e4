"""One truth about a run: after a deploy whose apply met an explicit deny on the bucket write (landing zone
4.0's CT.S3.PV.8, with DeliveryMode=bucket-notification forced), the stack's ActionRequired output, outputs
and check all name the same step, with the apply's cause and fix, until a later run clears it. Tests run in
order, on one deployed stack."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from expel_onboarding_cli import cli, run_history
from localaws import clients, deploy, landing_zone, stack_parameters
from tests.support.local_aws import local_aws


@dataclass
class Denied:
    endpoint: str
    zone: landing_zone.LandingZone
    outputs: dict[str, str]
    # The apply's Notification detail: the deny, its cause and its fix.
    cause_and_fix: str


def command(endpoint: str, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main([*argv, "--region", "us-east-1", "--endpoint-url", endpoint], out=out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def denied() -> Iterator[Denied]:
    with local_aws() as endpoint:
        zone = landing_zone.seed("4.0")
        parameters = {**stack_parameters.parameters(zone), "DeliveryMode": "bucket-notification"}
        outputs = deploy.deploy(parameters)
        sfn = clients.stepfunctions()
        apply = run_history.newest_executions(sfn, outputs["StateMachineArn"])[0]
        summary = run_history.summary_of(sfn, apply["executionArn"])
        assert summary is not None
        detail = next(step["Detail"] for step in summary["Steps"] if step["Name"] == "Notification")
        yield Denied(endpoint, zone, outputs, detail)


def test_the_deploy_says_notification_needs_you_and_why(denied: Denied) -> None:
    assert denied.outputs["ActionRequired"] == "Notification"
    assert "explicit deny" in denied.cause_and_fix
    assert "CT.S3.PV.8" in denied.cause_and_fix
    assert "DeliveryMode=auto (or trail-topic)" in denied.cause_and_fix


def test_outputs_and_check_print_the_same_cause_and_fix(denied: Denied) -> None:
    code, printed = command(denied.endpoint, "outputs")
    assert code == cli.EXIT_ACTION_REQUIRED, printed
    assert "Action required                   Notification" in printed
    assert f"Notification needs you: {denied.cause_and_fix}" in printed

    code, printed = command(denied.endpoint, "check")
    assert code == cli.EXIT_ACTION_REQUIRED, printed
    assert "Action required                   Notification" in printed
    row = next(line for line in printed.splitlines() if line.startswith("Notification "))
    assert "ACTION_REQUIRED" in row
    assert denied.cause_and_fix in row
    # The key statement the apply took back is held back, not drift a repair would put back.
    key_row = next(line for line in printed.splitlines() if line.startswith("KeyPolicy "))
    assert "took it back because Notification needs you" in key_row

    # And outputs after that check (the newest run now) says the same.
    code, printed = command(denied.endpoint, "outputs", "--json")
    shown: dict[str, Any] = json.loads(printed)
    assert code == cli.EXIT_ACTION_REQUIRED
    assert shown["ActionRequired"] == "Notification"
    assert shown["LastRun"]["Mode"] == "check"
    assert shown["LastRun"]["Drifted"] == []
    assert any(denied.cause_and_fix in action["Detail"] for action in shown["LastRun"]["Actions"])


def test_a_later_run_that_fixes_it_clears_it_everywhere(denied: Denied) -> None:
    outputs = deploy.deploy({**stack_parameters.parameters(denied.zone), "DeliveryMode": "auto"})
    assert outputs["ActionRequired"] == "none"
    code, printed = command(denied.endpoint, "check")
    assert code == cli.EXIT_OK, printed
    assert "Action required                   none" in printed
    code, printed = command(denied.endpoint, "outputs")
    assert code == cli.EXIT_OK, printed
    assert "needs you" not in printed
