"""A failed deploy is answered with its cause: CloudFormation keeps 256 characters of a reason, so the run the
Onboarding resource names is asked for the whole cause while Step Functions still has it (botocore's Stubber:
the answers AWS gives, event order included)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from expel_onboarding.errors import StackNotReady
from expel_onboarding_cli import stacks
from tests.support.stubbed import stubbable_client

STACK = "expel-cloudtrail-onboarding"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:expel-cloudtrail-onboarding-OnboardingStateMachine-AB"
RUN = "create-26af4412-692e-4b8b-9ced-db20247d1b40"
WHOLE_CAUSE = (
    "NotificationOverlap: " + "the bucket already sends these events elsewhere; " * 8 + "To fix it: narrow it."
)


def event(logical: str, status: str, reason: str = "", physical: str = "") -> dict[str, Any]:
    return {
        "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/1",
        "EventId": f"{logical}-{status}",
        "StackName": STACK,
        "LogicalResourceId": logical,
        "PhysicalResourceId": physical,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
        "Timestamp": datetime(2026, 12, 7, tzinfo=UTC),
    }


# DescribeStackEvents answers the newest first.
EVENTS = [
    event(STACK, "ROLLBACK_COMPLETE"),
    event("LogTarget", "CREATE_FAILED", "Resource creation cancelled"),
    event(
        "Onboarding",
        "CREATE_FAILED",
        f"NotificationOverlap: the bucket already… To fix it: narrow it. (execution {RUN})",
    ),
    event("OnboardingStateMachine", "CREATE_COMPLETE", physical=MACHINE),
]


def clients() -> tuple[Any, Any]:
    return stubbable_client("cloudformation"), stubbable_client("stepfunctions")


def rolled_back(stub: Stubber) -> None:
    stack = {"StackName": STACK, "StackStatus": "ROLLBACK_COMPLETE", "CreationTime": datetime(2026, 12, 7, tzinfo=UTC)}
    stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
    stub.add_response("describe_stack_events", {"StackEvents": EVENTS}, {"StackName": STACK})


def test_the_failed_runs_whole_cause_while_step_functions_has_it() -> None:
    cloudformation, sfn = clients()
    execution = f"{MACHINE.replace(':stateMachine:', ':execution:')}:{RUN}"
    with Stubber(cloudformation) as cf_stub, Stubber(sfn) as sfn_stub:
        rolled_back(cf_stub)
        sfn_stub.add_response(
            "describe_execution",
            {
                "executionArn": execution,
                "stateMachineArn": MACHINE,
                "status": "FAILED",
                "startDate": datetime(2026, 12, 7, tzinfo=UTC),
                "cause": WHOLE_CAUSE,
            },
            {"executionArn": execution},
        )
        with pytest.raises(StackNotReady) as failed:
            stacks.workbench_values(cloudformation, STACK, sfn)
    said = str(failed.value)
    assert said.startswith(f"The deploy of {STACK} failed (ROLLBACK_COMPLETE): Onboarding: {WHOLE_CAUSE} (run {RUN})")
    assert "delete it (aws cloudformation delete-stack" in said


def test_when_the_run_went_with_the_stack_the_events_reason_is_what_is_left() -> None:
    cloudformation, sfn = clients()
    with Stubber(cloudformation) as cf_stub, Stubber(sfn) as sfn_stub:
        rolled_back(cf_stub)
        sfn_stub.add_client_error("describe_execution", "ExecutionDoesNotExist", "gone")
        with pytest.raises(StackNotReady) as failed:
            stacks.workbench_values(cloudformation, STACK, sfn)
    assert f"Onboarding: NotificationOverlap: the bucket already… To fix it: narrow it. (execution {RUN})" in str(
        failed.value
    )
