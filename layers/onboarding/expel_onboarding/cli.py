"""expel-onboarding: check, repair or show a deployed onboarding from a terminal.

It runs the same state machine CloudFormation and the schedule run, shows each step as it
finishes, and prints the Workbench values ready to paste. Exit codes: 0 all is well, 1 a step failed,
2 check found drift (repair can put it back), 3 a step needs a person's action (its detail says what).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from expel_onboarding import clients, workflow
from expel_onboarding.errors import OnboardingError, RunFailed, StackNotReady
from expel_onboarding.reports import Status

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_stepfunctions import SFNClient

EXIT_OK, EXIT_FAILED, EXIT_DRIFTED, EXIT_ACTION_REQUIRED, EXIT_USAGE = 0, 1, 2, 3, 64
WORKBENCH_FIELDS = [
    ("RoleArn", "Role ARN"),
    ("SqsUrl", "SQS URL"),
    ("ManagementAccountId", "Organization management account"),
    ("Region", "Region"),
]
# Shown after the values: what to do, and how the events arrive.
STATUS_FIELDS = [("ActionRequired", "Action required"), ("DeliveryMode", "Delivery")]
USABLE_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")
MARKS = {"OK": "ok", "CHANGED": "changed", "DRIFTED": "DRIFTED", "ACTION_REQUIRED": "ACTION", "FAILED": "FAILED"}


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack-name", default="expel-cloudtrail-onboarding", help="the Log Archive stack")
    common.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    common.add_argument("--profile", help="the AWS profile to use")
    common.add_argument(
        "--endpoint-url", type=endpoint_url, help="an AWS-compatible endpoint, such as the local AWS of make demo"
    )
    common.add_argument("--json", action="store_true", help="print machine-readable JSON only")
    root = argparse.ArgumentParser(prog="expel-onboarding", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "check", parents=[common], help="report drift; writes nothing (exit 2 on drift, 3 if action is required)"
    )
    commands.add_parser(
        "repair", parents=[common], help="put back what drifted, and report what changed (exit 3 if action is required)"
    )
    commands.add_parser("outputs", parents=[common], help="print the Workbench values from the stack")
    return root


def endpoint_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{value!r} has no scheme: write it as http://{value} or https://{value}")
    return value


def stack_outputs(cloudformation: CloudFormationClient, stack_name: str) -> dict[str, str]:
    return _outputs(_stack(cloudformation, stack_name))


def _stack(cloudformation: CloudFormationClient, stack_name: str) -> dict[str, Any]:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        raise StackNotReady(f"No stack {stack_name}: {exc}. Pass --stack-name and --region of your deploy.") from exc
    return dict(stacks[0])


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output.get("OutputValue", "") for output in stack.get("Outputs", [])}


def workbench_values(cloudformation: CloudFormationClient, stack_name: str) -> dict[str, str]:
    """The values to paste into Workbench; StackNotReady rather than blanks when the stack has none."""
    stack = _stack(cloudformation, stack_name)
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


def state_machine_of(cloudformation: CloudFormationClient, stack_name: str) -> str:
    """From the stack's StateMachineArn output, or else its OnboardingStateMachine resource."""
    arn = stack_outputs(cloudformation, stack_name).get("StateMachineArn")
    if arn:
        return arn
    try:
        resource = cloudformation.describe_stack_resource(
            StackName=stack_name, LogicalResourceId="OnboardingStateMachine"
        )
    except ClientError as exc:
        raise StackNotReady(f"The stack {stack_name} has no onboarding state machine: {exc}") from exc
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def follow(sfn: SFNClient, execution_arn: str, out: TextIO | None, poll_seconds: float = 1.0) -> dict[str, Any]:
    """Wait for the run, printing each step as it finishes; the run's summary."""
    shown = 0
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        events = list(workflow.history(sfn, execution_arn))
        finished = workflow.finished_steps(events)
        for name, report in finished[shown:]:
            if out is not None:
                print(f"  {MARKS.get(report['Status'], report['Status']):<8} {name}", file=out, flush=True)
        shown = len(finished)
        if description["status"] != workflow.RUNNING:
            summary = workflow.summary_from_history(events)
            if summary is None:
                raise RunFailed(str(description.get("cause") or description["status"]), execution_arn)
            return summary
        time.sleep(poll_seconds)


def print_summary(summary: dict[str, Any], out: TextIO) -> None:
    print(f"\n{'Step':<14}{'Status':<17}Detail", file=out)
    for step in summary["Steps"]:
        print(f"{step['Name']:<14}{step['Status']:<17}{step['Detail']}", file=out)
    if summary.get("DeliveryMode"):
        print(f"\nDelivery: {summary['DeliveryMode']} ({summary.get('DeliveryReason', '')})", file=out)
    print_values(summary, out)


def print_values(values: dict[str, Any], out: TextIO) -> None:
    print("\nWorkbench values", file=out)
    for key, label in WORKBENCH_FIELDS:
        print(f"  {label:<33} {values.get(key, '')}", file=out)
    for key, label in STATUS_FIELDS:
        if isinstance(values.get(key), str) and values[key]:
            print(f"  {label:<33} {values[key]}", file=out)


def exit_code(summary: dict[str, Any]) -> int:
    """The first that applies: a failure, then drift (a repair run can fix it), then a step that needs a
    person (ACTION_REQUIRED: Verify's findings after a write, a key policy only its account can edit)."""
    statuses = {step["Status"] for step in summary["Steps"]}
    if summary.get("Failed") or Status.FAILED.value in statuses:
        return EXIT_FAILED
    if Status.DRIFTED.value in statuses:
        return EXIT_DRIFTED
    if Status.ACTION_REQUIRED.value in statuses:
        return EXIT_ACTION_REQUIRED
    return EXIT_OK


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    cloudformation, sfn = clients.for_cli(arguments.profile, arguments.region, arguments.endpoint_url)
    if arguments.command == "outputs":
        values = workbench_values(cloudformation, arguments.stack_name)
        if arguments.json:
            shown = [key for key, _ in WORKBENCH_FIELDS + STATUS_FIELDS if key in values]
            print(json.dumps({key: values[key] for key in shown}, indent=2), file=out)
        else:
            print_values(values, out)
        action = values.get("ActionRequired", "none")
        return EXIT_OK if action in ("", "none") else EXIT_ACTION_REQUIRED
    state_machine = state_machine_of(cloudformation, arguments.stack_name)
    name = workflow.run_name(arguments.command, "cli")
    execution = workflow.start(sfn, state_machine, {"Mode": arguments.command}, name)
    if not arguments.json:
        print(f"Running {arguments.command} on {arguments.stack_name} ({name})", file=out, flush=True)
    summary = follow(sfn, execution, None if arguments.json else out)
    if arguments.json:
        print(json.dumps({**summary, "ExecutionArn": execution}, indent=2), file=out)
    else:
        print_summary(summary, out)
    return exit_code(summary)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    arguments = parser().parse_args(argv)
    try:
        return run(arguments, out)
    except NoRegionError:
        print(
            "expel-onboarding: no region: pass --region (the stack's region) or set AWS_DEFAULT_REGION.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except (StackNotReady, RunFailed, OnboardingError, BotoCoreError, ClientError) as exc:
        print(f"expel-onboarding: {exc}", file=sys.stderr)
        return EXIT_FAILED
