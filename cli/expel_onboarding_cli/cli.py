"""expel-onboarding: preview a deploy, then check, repair or show the deployed onboarding.

plan reads what the stack would find and shows what it would change, before any deploy. check and
repair run the same state machine CloudFormation and the schedule run, show each step as it
finishes, and print the Workbench values ready to paste; outputs prints those values.
Exit codes: 0 all is well, 1 a step (or the command) failed, 2 check found drift (repair can put it
back), 3 a step needs a person's action (its detail says what), 64 the command line itself is wrong,
130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import UTC
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from expel_onboarding import workflow
from expel_onboarding.errors import AwsThrottled, RunFailed
from expel_onboarding.reports import Status
from expel_onboarding_cli import (
    delivery_report,
    explained,
    feed_commands,
    plan,
    plan_load,
    run_history,
    sessions,
    stacks,
    template_parameters,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_stepfunctions import SFNClient

EXIT_OK, EXIT_FAILED, EXIT_DRIFTED, EXIT_ACTION_REQUIRED, EXIT_USAGE = 0, 1, 2, 3, 64
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped with Ctrl-C
# Shown after the values: what to do, and how the events arrive.
STATUS_FIELDS = [("ActionRequired", "Action required"), ("DeliveryMode", "Delivery")]
FAILED_RUNS = ("FAILED", "TIMED_OUT", "ABORTED")
MARKS = {"OK": "ok", "CHANGED": "changed", "DRIFTED": "DRIFTED", "ACTION_REQUIRED": "ACTION", "FAILED": "FAILED"}
# A plan's marks say what the deploy would do, not what was done.
PLAN_MARKS = {"OK": "ok", "CHANGED": "change", "ACTION_REQUIRED": "ACTION"}
OUTPUTS = ("table", "json")
# python -m localaws start prints its endpoint as this variable; every command takes it.
LOCAL_ENDPOINT = "LOCALAWS_ENDPOINT"
# CloudFormation's stack names (CreateStack's StackName).
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
DISTRIBUTION = "expel-cloudtrail-onboarding"
PLAN_HELP = (
    "Reads, with your own credentials, what the deploy would find (the organization trail, its bucket, key and\n"
    "topic, the management account, the delivery mode auto picks) and shows what it would change in the\n"
    "bucket's notification configuration (or the trail topic's subscriptions) and the key policy, with any\n"
    "refusal the deploy would meet and its fix. It writes nothing. Exit 0: nothing would block; 3: something\n"
    "needs you; 1: the plan could not be made.\n\nParameters it reads, with template.yaml's defaults:\n"
    + "\n".join(
        f"  {name} (default: {value or 'empty'})" for name, value in plan.template_values(plan.Parameters()).items()
    )
    + "\nThe template's other parameters are taken too, so a deploy's overrides can be pasted as they are;\n"
    f"they change nothing a plan reads: {', '.join(plan.NOT_PLANNED)}."
)


class Parser(argparse.ArgumentParser):
    """argparse's, but a usage mistake exits 64 (EX_USAGE, as sysexits.h names it), not 2: 2 is check's "drift",
    and a script that runs check must not read a typo as drift."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def common_options(suppressed: bool) -> Parser:
    """The options every verb takes. The root parser takes them too, before the verb, with their defaults;
    each verb's copy has no defaults (suppressed), so that one given before the verb is not reset by it."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppressed else value

    common = Parser(add_help=False)
    common.add_argument(
        "--stack-name",
        type=stack_name,
        default=default(plan.Parameters.stack_name),
        help=f"the Log Archive stack (default: {plan.Parameters.stack_name})",
    )
    common.add_argument(
        "--region",
        type=region,
        default=default(None),
        help="the stack's region (default: AWS_DEFAULT_REGION, or your profile's region)",
    )
    common.add_argument(
        "--profile", default=default(None), help="the AWS profile to use (default: AWS_PROFILE, or the default chain)"
    )
    common.add_argument(
        "--endpoint-url",
        type=endpoint_url,
        default=default(local_endpoint()),
        help=f"an AWS-compatible endpoint, such as the local AWS of make demo (default: {LOCAL_ENDPOINT}, if set)",
    )
    common.add_argument(
        "--output",
        choices=OUTPUTS,
        default=default("table"),
        help="table for people, json for scripts (default: table)",
    )
    common.add_argument(
        "--json",
        dest="output",
        action="store_const",
        const="json",
        default=default(None),
        help="the same as --output json",
    )
    return common


def parser() -> argparse.ArgumentParser:
    common = common_options(suppressed=True)
    root = Parser(
        prog="expel-onboarding",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common_options(suppressed=False)],
    )
    root.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = root.add_subparsers(
        dest="command", required=True, metavar="{plan,check,repair,outputs,freshness,replay}"
    )
    planning = commands.add_parser(
        "plan",
        parents=[common],
        help="before a deploy: what it would find and change; writes nothing (exit 3 if something would need you)",
        description=PLAN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    planning.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="Name=Value",
        type=template_parameters.override,
        help="the deploy's parameters, as sam deploy takes them (default: template.yaml's defaults, listed above)",
    )
    planning.add_argument(
        "--accounts",
        type=positive,
        help="the organization's number of accounts, for the feed's load and cost (default: counted with "
        "ListAccounts, which only the management account may call: see --key-profile)",
    )
    planning.add_argument(
        "--sns-publish-quota",
        type=positive,
        metavar="PER_SECOND",
        help="the Log Archive account's SNS publish quota in the home region, if it was raised (default: the "
        "region's default quota)",
    )
    planning.add_argument(
        "--key-profile",
        help="a profile in the CloudTrail key's account (the management account), to preview the key policy edit: "
        "only that account can read it (default: none; the edit is shown without the policy's checks)",
    )
    commands.add_parser(
        "check", parents=[common], help="report drift; writes nothing (exit 2 on drift, 3 if action is required)"
    )
    commands.add_parser(
        "repair", parents=[common], help="put back what drifted, and report what changed (exit 3 if action is required)"
    )
    commands.add_parser(
        "outputs",
        parents=[common],
        help="print the Workbench values from the stack (exit 1 if it or its last run failed, 2 if that run found "
        "drift, 3 if action is required)",
    )
    feed_commands.add_commands(commands, common)
    return root


def package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "(not installed as a package: pip install -e . in the repository)"


def local_endpoint() -> str | None:
    """LOCALAWS_ENDPOINT, when it is a URL (main says what is wrong with one that is not)."""
    value = os.environ.get(LOCAL_ENDPOINT, "")
    return value if value.startswith(("http://", "https://")) else None


def stack_name(value: str) -> str:
    """A CloudFormation stack name: DescribeStacks with an empty one answers every stack of the account."""
    if not STACK_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a stack name: CloudFormation's start with a letter and hold only letters, digits "
            f"and hyphens, up to 128 (the default is {plan.Parameters.stack_name})"
        )
    return value


def region(value: str) -> str:
    problem = sessions.region_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def endpoint_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{value!r} has no scheme: write it as http://{value} or https://{value}")
    return value


def quiet_teardown() -> None:
    """Ctrl-C can land inside an HTTP read: the half-made response object then fails in its own clean-up when
    the process ends, and Python prints that as "Exception ignored in ... Traceback". Nothing of it is the
    person's to act on: the message above says what happened."""
    sys.unraisablehook = lambda _unraisable: None


class RunInterrupted(Exception):
    """Ctrl-C while a run was followed: the run itself goes on in Step Functions."""

    def __init__(self, name: str, execution_arn: str, arguments: argparse.Namespace) -> None:
        super().__init__(
            f"stopped following {name}. The run goes on in AWS, or has ended, by itself (a run that fails takes back "
            f"what it wrote). How it ended: expel-onboarding outputs{same_target(arguments)} (its Last run line), "
            f"or aws stepfunctions describe-execution --execution-arn {execution_arn}"
        )


def same_target(arguments: argparse.Namespace) -> str:
    """The options that point another command at the same stack, as they were given."""
    given = [
        ("--stack-name", arguments.stack_name if arguments.stack_name != plan.Parameters.stack_name else None),
        ("--region", arguments.region),
        ("--profile", arguments.profile),
        ("--endpoint-url", arguments.endpoint_url),
    ]
    return "".join(f" {option} {shlex.quote(value)}" for option, value in given if value)


def follow(sfn: SFNClient, execution_arn: str, out: TextIO | None, poll_seconds: float = 0.25) -> dict[str, Any]:
    """Wait for the run, printing each step as it finishes; the run's summary.

    Polling starts fast (a converged run takes about a second) and slows to every second."""
    shown = 0
    while True:
        try:
            description = sfn.describe_execution(executionArn=execution_arn)
            events = list(workflow.history(sfn, execution_arn))
        except AwsThrottled:
            # A throttled poll says nothing about the run: poll again, later.
            time.sleep(poll_seconds)
            poll_seconds = min(poll_seconds * 1.5, 1.0)
            continue
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
        poll_seconds = min(poll_seconds * 1.5, 1.0)


def print_summary(summary: dict[str, Any], out: TextIO) -> None:
    width = max([14, *(len(step["Name"]) + 2 for step in summary["Steps"])])  # undo rows are longer
    print(f"\n{'Step':<{width}}{'Status':<17}Detail", file=out)
    for step in summary["Steps"]:
        print(f"{step['Name']:<{width}}{step['Status']:<17}{step['Detail']}", file=out)
    if summary.get("Remaining"):
        print("\nLeft in place by this removal; each is removed by hand with:", file=out)
        for item in summary["Remaining"]:
            print(f"  {item['What']} ({item['Where']}):\n    {item['Command']}", file=out)
    if summary.get("DeliveryMode"):
        print(f"\nDelivery: {summary['DeliveryMode']} ({summary.get('DeliveryReason', '')})", file=out)
    # The delivery line above says it once; what needs a person reads as the stack's ActionRequired output does.
    action = ", ".join(summary.get("ActionRequired") or []) or "none"
    print_values({**summary, "DeliveryMode": "", "ActionRequired": action}, out)


def print_values(values: dict[str, Any], out: TextIO) -> None:
    print("\nWorkbench values", file=out)
    for key, label in stacks.WORKBENCH_FIELDS:
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
    if run_history.drifted(summary):
        return EXIT_DRIFTED
    if Status.ACTION_REQUIRED.value in statuses:
        return EXIT_ACTION_REQUIRED
    return EXIT_OK


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    as_json = arguments.output == "json"
    if arguments.command == "plan":
        return run_plan(arguments, out)
    cloudformation, sfn = sessions.for_cli(arguments.profile, arguments.region, arguments.endpoint_url)
    if arguments.command == "outputs":
        return run_outputs(cloudformation, sfn, arguments.stack_name, as_json, out)
    if arguments.command in ("freshness", "replay"):
        return feed_commands.run(arguments, cloudformation, sfn, out)
    state_machine = stacks.state_machine_of(cloudformation, arguments.stack_name, sfn)
    name = workflow.run_name(arguments.command, "cli")
    execution = workflow.start(sfn, state_machine, {"Mode": arguments.command}, name)
    try:
        return follow_and_report(arguments, cloudformation, sfn, state_machine, name, execution, out)
    except KeyboardInterrupt:
        # From here on a run exists: whatever Ctrl-C stopped, it was our following of that run, never the run.
        raise RunInterrupted(name, execution, arguments) from None


def follow_and_report(
    arguments: argparse.Namespace,
    cloudformation: CloudFormationClient,
    sfn: SFNClient,
    state_machine: str,
    name: str,
    execution: str,
    out: TextIO,
) -> int:
    as_json = arguments.output == "json"
    if not as_json:
        print(f"Running {arguments.command} on {arguments.stack_name} ({name})", file=out, flush=True)
    summary = follow(sfn, execution, None if as_json else out)
    summary = run_history.with_last_write(sfn, state_machine, execution, summary)
    cloudwatch, s3 = sessions.for_delivery_report(arguments.profile, arguments.region, arguments.endpoint_url)
    unknown = ""
    try:
        health = delivery_report.verdict(cloudformation, cloudwatch, s3, arguments.stack_name, summary)
    except (BotoCoreError, ClientError) as exc:
        # The run's answer stands without it: say why delivery could not be judged, never hide the steps.
        health, unknown = (
            None,
            f"unknown ({exc}). Judging it reads cloudwatch:GetMetricStatistics and lists the log bucket.",
        )
    if as_json:
        judged = health.to_dict() if health else {"Feed": "unknown", "Detail": unknown} if unknown else None
        print(json.dumps({**summary, "ExecutionArn": execution, "DeliveryHealth": judged}, indent=2), file=out)
    else:
        print_summary(summary, out)
        if health is not None or unknown:
            # The detail opens with the verdict (Delivering, Lagging, Silent), so it is not said twice.
            said = health.detail if health else unknown
            print(f"\nDelivery health: {said}", file=out)
    code = exit_code(summary)
    # Silence is never exit 0: a feed that does not deliver (or cannot be judged) needs a person.
    unhealthy = bool(unknown) or (health is not None and not health.healthy)
    return EXIT_ACTION_REQUIRED if code == EXIT_OK and unhealthy else code


def run_outputs(
    cloudformation: CloudFormationClient, sfn: SFNClient, stack_name: str, as_json: bool, out: TextIO
) -> int:
    """The Workbench values, after the stack's status and the workflow's last run say they still hold."""
    values = stacks.workbench_values(cloudformation, stack_name, sfn)
    run = last_run(sfn, values["StateMachineArn"]) if values.get("StateMachineArn") else None
    if run and "ActionRequired" in run and ("ActionRequired" in values or run["ActionRequired"]):
        # The newest run is the truth; the stack's output is its deploy's run, until the next deploy.
        values = {**values, "ActionRequired": ", ".join(run["ActionRequired"]) or "none"}
    if as_json:
        shown = {key: values[key] for key, _ in stacks.WORKBENCH_FIELDS + STATUS_FIELDS if key in values}
        print(json.dumps({**shown, "LastRun": run} if run else shown, indent=2), file=out)
    else:
        print_values(values, out)
        if run:
            print(f"  {'Last run':<33} {run_line(run)}", file=out)
            for action in run.get("Actions", []):
                print(f"\n{action['Name']} needs you: {action['Detail']}", file=out)
    if run and run["Status"] in FAILED_RUNS:
        print(
            f"expel-onboarding: the last onboarding run, {run['Name']}, ended {run['Status']}: {run['Cause']} "
            "The values may no longer hold. Fix the cause, then run expel-onboarding repair.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if run and run.get("Drifted"):
        return EXIT_DRIFTED
    action = values.get("ActionRequired", "none")
    return EXIT_OK if action in ("", "none") else EXIT_ACTION_REQUIRED


def last_run(sfn: SFNClient, state_machine_arn: str) -> dict[str, Any] | None:
    """The workflow's newest run (a deploy's, the schedule's or a person's): its status, and what it found,
    with what the last writing run could not do (run_history)."""
    executions = run_history.newest_executions(sfn, state_machine_arn)
    if not executions:
        return None
    newest = executions[0]
    run: dict[str, Any] = {
        "Name": newest["name"],
        "Status": newest["status"],
        "StartDate": newest["startDate"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if newest["status"] == workflow.RUNNING:
        return run
    if newest["status"] in FAILED_RUNS:
        description = sfn.describe_execution(executionArn=newest["executionArn"])
        return {**run, "Cause": str(description.get("cause") or description.get("error") or "no cause given")}
    summary = run_history.summary_of(sfn, newest["executionArn"]) or {}
    summary = run_history.with_last_write(sfn, state_machine_arn, newest["executionArn"], summary, executions)
    return {
        **run,
        "Mode": summary.get("Mode", ""),
        "Drifted": run_history.drifted(summary),
        "ActionRequired": list(summary.get("ActionRequired", [])),
        "Actions": run_history.actions(summary),
    }


def run_line(run: dict[str, Any]) -> str:
    said = f"{run['Name']}, {run['StartDate']}: {run['Status'].lower()}"
    if run.get("Drifted"):
        said += f"; drift in {', '.join(run['Drifted'])} (expel-onboarding repair puts it back)"
    if run.get("ActionRequired"):
        said += f"; {', '.join(run['ActionRequired'])} needs you (below)"
    return said


def run_plan(arguments: argparse.Namespace, out: TextIO) -> int:
    # Judged against template.yaml before any call: CloudFormation's own refusal, and its fix.
    overrides = plan.checked(dict(arguments.parameter_overrides))
    readers = sessions.for_plan(arguments.profile, arguments.region, arguments.endpoint_url, arguments.key_profile)
    sizing = plan.Sizing(arguments.accounts, arguments.sns_publish_quota)
    made = plan.make(readers, overrides, arguments.stack_name, sizing)
    if arguments.output == "json":
        print(json.dumps(made.to_dict(), indent=2), file=out)
    else:
        print_plan(made, out)
    return EXIT_ACTION_REQUIRED if made.needs_action else EXIT_OK


def print_plan(made: plan.Plan, out: TextIO) -> None:
    existing = "updates the existing stack" if made.stack_exists else "a new stack"
    print(
        f"Plan for {made.stack_name} ({existing}) in account {made.account_id}, {made.region}. "
        "Read only: nothing was written.",
        file=out,
    )
    if made.discovered:
        print("\nDiscovered", file=out)
        for key, value in made.discovered.items():
            print(f"  {key:<22} {value}", file=out)
    print("\nParameters", file=out)
    for key, value in made.parameters.items():
        print(f"  {key:<22} {value or '(empty)'}  ({made.sources[key]})", file=out)
    print("\nChanges", file=out)
    for change in made.changes:
        print(f"  {PLAN_MARKS[change.status.value]:<8} {change.name:<14} {change.target}", file=out)
        for line in change.detail.splitlines():
            print(f"{'':<25}{line}", file=out)
        for line in change.diff:
            print(f"{'':<25}{line}", file=out)
    print(f"\n{'The stack' if made.stack_exists else 'Made by the deploy'}", file=out)
    for key, value in made.created.items():
        print(f"  {key:<22} {value}", file=out)
    if made.load is not None and made.load.load is not None:
        print(
            f"\nThe feed's monthly cost at US East list prices (expel_onboarding_cli/feed_load.py; "
            f"{made.load.load.accounts:,} accounts from {made.load.sources['Accounts']})",
            file=out,
        )
        for line in plan_load.cost_lines(made.load.load):
            print(f"  {line}", file=out)
    counts = {mark: sum(1 for c in made.changes if PLAN_MARKS[c.status.value] == mark) for mark in PLAN_MARKS.values()}
    print(
        f"\nPlan: {counts['change']} to change, {counts['ACTION']} needing you, {counts['ok']} unchanged.",
        file=out,
    )


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    arguments = parser().parse_args(given)
    variable = os.environ.get(LOCAL_ENDPOINT, "")
    if variable and not local_endpoint() and not arguments.endpoint_url:
        print(
            f"expel-onboarding: {LOCAL_ENDPOINT}={variable!r} has no scheme: export {LOCAL_ENDPOINT}=http://{variable} "
            f"(or unset it to reach AWS).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if arguments.endpoint_url and not any(word.startswith("--endpoint-url") for word in given):
        # Taken from the variable: never reach a local AWS while meaning a real account without saying so.
        print(
            f"expel-onboarding: using {arguments.endpoint_url} ({LOCAL_ENDPOINT}); unset it to reach AWS.",
            file=sys.stderr,
        )
    try:
        return run(arguments, out)
    except RunInterrupted as stopped:
        quiet_teardown()
        print(f"\nexpel-onboarding: {stopped}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        quiet_teardown()
        said = "a plan writes nothing" if arguments.command == "plan" else "no run was started"
        print(f"\nexpel-onboarding: interrupted; {said}, so nothing is left half-done.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Whoever read the output stopped (| head): nothing more to say, and nowhere to say it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:
        if explained.debugging():
            raise
        print(f"expel-onboarding: {explained.explain(exc, arguments)}", file=sys.stderr)
        return EXIT_FAILED
