"""The Log Archive stack as the operator's commands read it: its outputs, its onboarding state machine, the
Workbench values it holds, and, for a deploy that failed, the whole cause."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from expel_onboarding.errors import StackNotReady

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_stepfunctions import SFNClient

# The values Workbench asks for, with their labels.
WORKBENCH_FIELDS = [
    ("RoleArn", "Role ARN"),
    ("SqsUrl", "SQS URL"),
    ("ManagementAccountId", "Organization management account"),
    ("Region", "Region"),
]
# A stack that holds Workbench values (an update rolled back keeps the previous ones).
USABLE_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")
# A stack whose deploy failed and left nothing usable: the cause is in its events.
DEPLOY_FAILED = (
    "CREATE_FAILED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_FAILED",
)
# The run a failed Onboarding resource names at the end of its reason (errors.RunFailed.reason).
RUN_NAMED = re.compile(r"\(execution ([A-Za-z0-9_-]+)\)$")


def stack_outputs(
    cloudformation: CloudFormationClient, stack_name: str, sfn: SFNClient | None = None
) -> dict[str, str]:
    return _outputs(_stack(cloudformation, stack_name, sfn))


def _stack(cloudformation: CloudFormationClient, stack_name: str, sfn: SFNClient | None = None) -> dict[str, Any]:
    """The stack, or StackNotReady: none of that name, or a deploy that failed (with its cause)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        where = cloudformation.meta.region_name
        if "does not exist" in str(exc):
            raise StackNotReady(
                f"No stack {stack_name} in {where}: deploy it first (sam deploy --guided, see the README), or pass "
                "the --stack-name and --region of your deploy."
            ) from exc
        raise StackNotReady(
            f"No stack {stack_name} in {where}: {exc}. Pass --stack-name and --region of your deploy."
        ) from exc
    stack = dict(stacks[0])
    status = str(stack.get("StackStatus", ""))
    if status in DEPLOY_FAILED:
        again = (
            f"delete it (aws cloudformation delete-stack --stack-name {stack_name}), then deploy again"
            if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
            else "deploy again"
        )
        raise StackNotReady(
            f"The deploy of {stack_name} failed ({status}): {deploy_failure(cloudformation, stack_name, sfn)} "
            f"Fix that, then {again}."
        )
    return stack


def deploy_failure(cloudformation: CloudFormationClient, stack_name: str, sfn: SFNClient | None = None) -> str:
    """The cause of a failed deploy: the first resource that failed, and its reason. CloudFormation keeps 256
    characters of a reason, so for the Onboarding resource, whose reason ends with its run's name, the run's
    whole cause is read from Step Functions while it still has the run. Resources cancelled because of the
    first failure say nothing of their own."""
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    failed = [
        event
        for event in reversed(events)  # DescribeStackEvents answers the newest first
        if str(event.get("ResourceStatus", "")).endswith("_FAILED")
        and event.get("ResourceStatusReason")
        and "cancelled" not in str(event["ResourceStatusReason"]).lower()
    ]
    if not failed:
        return "CloudFormation gave no reason."
    first = failed[0]
    reason = str(first["ResourceStatusReason"])
    run = RUN_NAMED.search(reason)
    machine = next(
        (
            str(e.get("PhysicalResourceId", ""))
            for e in events
            if e.get("LogicalResourceId") == "OnboardingStateMachine"
            and ":stateMachine:" in e.get("PhysicalResourceId", "")
        ),
        "",
    )
    if run and machine and sfn is not None:
        execution = f"{machine.replace(':stateMachine:', ':execution:')}:{run[1]}"
        try:
            cause = sfn.describe_execution(executionArn=execution).get("cause")
        except ClientError:
            cause = None  # the run went with the state machine: the event's reason is what is left
        if cause:
            return f"{first.get('LogicalResourceId')}: {cause} (run {run[1]})"
    return f"{first.get('LogicalResourceId')}: {reason}"


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output.get("OutputValue", "") for output in stack.get("Outputs", [])}


def workbench_values(
    cloudformation: CloudFormationClient, stack_name: str, sfn: SFNClient | None = None
) -> dict[str, str]:
    """The values to paste into Workbench; StackNotReady rather than blanks when the stack has none."""
    stack = _stack(cloudformation, stack_name, sfn)
    values = _outputs(stack)
    status = str(stack.get("StackStatus", ""))
    missing = [key for key, _ in WORKBENCH_FIELDS if not values.get(key)]
    if status not in USABLE_STATUSES or missing:
        raise StackNotReady(
            f"The stack {stack_name} is {status}{' without ' + ', '.join(missing) if missing else ''}: it has no "
            "Workbench values to paste. Its events say why (aws cloudformation describe-stack-events "
            f"--stack-name {stack_name}); fix the cause, then deploy again."
        )
    return values


def state_machine_of(cloudformation: CloudFormationClient, stack_name: str, sfn: SFNClient | None = None) -> str:
    """From the stack's StateMachineArn output, or else its OnboardingStateMachine resource."""
    arn = stack_outputs(cloudformation, stack_name, sfn).get("StateMachineArn")
    if arn:
        return arn
    try:
        resource = cloudformation.describe_stack_resource(
            StackName=stack_name, LogicalResourceId="OnboardingStateMachine"
        )
    except ClientError as exc:
        raise StackNotReady(f"The stack {stack_name} has no onboarding state machine: {exc}") from exc
    return resource["StackResourceDetail"]["PhysicalResourceId"]
