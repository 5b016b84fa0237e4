"""The CLI against the same emulated state machine: check, repair, outputs, exit codes."""

from __future__ import annotations

import io
import json
from importlib.metadata import version
from typing import Any

import pytest
from botocore.exceptions import ClientError

from expel_onboarding_cli import cli, delivery_report, sessions
from localaws import clients, deployment, landing_zone
from tests.support.throttling import Throttle

STACK = "expel-cloudtrail-onboarding"


@pytest.fixture
def stack(workflow: deployment.Workflow, stack_environment: dict[str, str]) -> dict[str, str]:
    """A stack whose outputs are what template.yaml's are after a deploy (apply has run)."""
    deployment.run(workflow, {"Mode": "apply"})
    return outputs_stack(workflow, stack_environment)


def outputs_stack(workflow: deployment.Workflow, stack_environment: dict[str, str]) -> dict[str, str]:
    """A stack with template.yaml's outputs for this workflow (what the CLI reads); the outputs."""
    outputs = {
        "StateMachineArn": workflow.state_machine_arn,
        "RoleArn": stack_environment["EXPEL_ROLE_ARN"],
        "SqsUrl": stack_environment["QUEUE_URL"],
        "ManagementAccountId": landing_zone.MANAGEMENT,
        "Region": "us-east-1",
    }
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    clients.cloudformation().create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    return outputs


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main([*argv, "--stack-name", STACK, "--region", "us-east-1"], out=out)
    return code, out.getvalue()


def drop_our_notification(bucket: str) -> None:
    config = landing_zone.notifications_of(bucket)
    config["TopicConfigurations"] = [
        e for e in config.get("TopicConfigurations", []) if not e["Id"].startswith("ExpelOnboarding")
    ]
    clients.s3().put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)  # type: ignore[arg-type]


def test_check_on_a_converged_setup_shows_each_step_and_the_values_and_exits_zero(stack: dict[str, str]) -> None:
    code, printed = run_cli("check")
    assert code == cli.EXIT_OK
    for step in ("Discover", "Ownership", "KeyPolicy", "Notification", "Verify"):
        assert f"ok       {step}" in printed
    assert f"Role ARN                          {stack['RoleArn']}" in printed
    assert f"SQS URL                           {stack['SqsUrl']}" in printed
    assert f"Organization management account   {landing_zone.MANAGEMENT}" in printed


def test_check_whose_delivery_reads_are_refused_still_shows_the_run_and_exits_three(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_: object, **__: object) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not for you"}}, "GetMetricStatistics")

    monkeypatch.setattr(delivery_report, "verdict", refused)
    code, printed = run_cli("check")
    assert code == cli.EXIT_ACTION_REQUIRED
    assert "ok       Verify" in printed
    assert "Delivery health: unknown (An error occurred (AccessDenied)" in printed


def test_check_exits_two_on_drift(stack: dict[str, str], zone: landing_zone.LandingZone) -> None:
    drop_our_notification(zone.bucket)
    code, printed = run_cli("check")
    assert code == cli.EXIT_DRIFTED
    assert "DRIFTED  Notification" in printed


def test_repair_fixes_drift_and_exits_zero(stack: dict[str, str], zone: landing_zone.LandingZone) -> None:
    drop_our_notification(zone.bucket)
    code, printed = run_cli("repair")
    assert code == cli.EXIT_OK
    assert "changed  Notification" in printed
    assert run_cli("check")[0] == cli.EXIT_OK


def test_json_output_is_the_run_summary(stack: dict[str, str]) -> None:
    code, printed = run_cli("check", "--json")
    summary: dict[str, Any] = json.loads(printed)
    assert code == cli.EXIT_OK
    assert summary["Mode"] == "check"
    assert summary["RoleArn"] == stack["RoleArn"]
    assert [s["Status"] for s in summary["Steps"]] == ["OK"] * 5
    assert summary["ExecutionArn"].startswith(stack["StateMachineArn"].replace(":stateMachine:", ":execution:"))


def test_outputs_prints_the_stacks_workbench_values_without_running_anything(stack: dict[str, str]) -> None:
    code, printed = run_cli("outputs", "--json")
    shown = json.loads(printed)
    assert code == cli.EXIT_OK
    last_run = shown.pop("LastRun")
    assert shown == {k: stack[k] for k in ("RoleArn", "SqsUrl", "ManagementAccountId", "Region")}
    assert (last_run["Status"], last_run["Mode"], last_run["Drifted"]) == ("SUCCEEDED", "apply", [])


def test_outputs_after_a_failed_run_exits_one_and_says_the_values_may_no_longer_hold(
    stack_environment: dict[str, str], zone: landing_zone.LandingZone, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = deployment.deploy({**stack_environment, "NOTIFICATION_PREFIX": ""}, name="failing")
    outputs_stack(failing, stack_environment)
    assert deployment.run(failing, {"Mode": "repair"})["status"] == "FAILED"
    code, printed = run_cli("outputs")
    assert code == cli.EXIT_FAILED
    assert "Last run" in printed
    error = capsys.readouterr().err
    assert "NotificationOverlap" in error
    assert "The values may no longer hold" in error


def test_outputs_after_a_check_that_found_drift_exits_two_and_names_it(
    stack: dict[str, str], zone: landing_zone.LandingZone
) -> None:
    drop_our_notification(zone.bucket)
    assert run_cli("check")[0] == cli.EXIT_DRIFTED
    code, printed = run_cli("outputs")
    assert code == cli.EXIT_DRIFTED
    assert "drift in Notification (expel-onboarding repair puts it back)" in printed


def test_a_failed_run_exits_one_and_names_the_step(
    stack_environment: dict[str, str], zone: landing_zone.LandingZone, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = deployment.deploy({**stack_environment, "NOTIFICATION_PREFIX": ""}, name="failing")
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"StateMachineArn": {"Value": failing.state_machine_arn}},
    }
    clients.cloudformation().create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    code, printed = run_cli("repair")
    assert code == cli.EXIT_FAILED
    assert "FAILED   Notification" in printed or "Notification  FAILED" in printed
    assert "NotificationOverlap" in printed


def test_a_missing_stack_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run_cli("check")
    assert code == cli.EXIT_FAILED
    assert f"No stack {STACK}" in capsys.readouterr().err


def test_outputs_of_a_stack_without_workbench_values_is_an_error_not_blanks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"RoleArn": {"Value": ""}}}
    clients.cloudformation().create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    code, printed = run_cli("outputs")
    assert code == cli.EXIT_FAILED
    assert printed == ""
    error = capsys.readouterr().err
    assert "no Workbench values to paste" in error
    assert "describe-stack-events" in error


def test_outputs_take_the_newest_run_over_the_deploys_action_required_output(stack: dict[str, str]) -> None:
    # The stack's output is its deploy's run; a later run (here, the apply that found nothing to do) clears it.
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in {**stack, "ActionRequired": "KeyPolicy"}.items()},
    }
    clients.cloudformation().update_stack(StackName=STACK, TemplateBody=json.dumps(template))
    code, printed = run_cli("outputs")
    assert code == cli.EXIT_OK, printed
    assert "Action required                   none" in printed


def test_an_endpoint_without_a_scheme_is_refused_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["check", "--endpoint-url", "127.0.0.1:5000"])
    assert exited.value.code == cli.EXIT_USAGE
    assert "write it as http://127.0.0.1:5000" in capsys.readouterr().err


def test_no_region_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code = cli.main(["check", "--stack-name", STACK], out=io.StringIO())
    assert code == cli.EXIT_FAILED
    error = capsys.readouterr().err
    assert "pass --region" in error
    assert "AWS_DEFAULT_REGION" in error


def test_output_json_is_the_run_summary_as_json_is(stack: dict[str, str]) -> None:
    code, printed = run_cli("check", "--output", "json")
    assert code == cli.EXIT_OK
    assert json.loads(printed)["Mode"] == "check"


def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"expel-onboarding {version('expel-cloudtrail-onboarding')}"


@pytest.mark.parametrize("command", ["plan", "check", "repair", "outputs"])
def test_help_shows_the_defaults(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # so no default is wrapped at its hyphen
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: expel-cloudtrail-onboarding)" in shown
    assert "(default: table)" in shown
    assert "AWS_DEFAULT_REGION" in shown


def test_plans_help_lists_the_parameters_with_the_templates_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["plan", "--help"])
    shown = capsys.readouterr().out
    assert "DeliveryMode (default: auto)" in shown
    assert "ExpelRoleName (default: ExpelTrailAssumeRole)" in shown
    assert "NotificationPrefix (default: empty)" in shown


def test_check_waits_out_a_throttled_start_and_throttled_reads_of_the_run(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    throttles = [
        Throttle("stepfunctions:StartExecution", "ThrottlingException", times=2),
        Throttle("stepfunctions:DescribeExecution", "TooManyRequestsException", times=2),
        Throttle("stepfunctions:GetExecutionHistory", "ThrottlingException", times=2),
    ]
    made = sessions.for_cli

    def throttled(*arguments: Any) -> Any:
        cloudformation, sfn = made(*arguments)
        for throttle in throttles:
            throttle.arm_client(sfn)
        return cloudformation, sfn

    monkeypatch.setattr(sessions, "for_cli", throttled)
    code, printed = run_cli("check")
    assert [throttle.met for throttle in throttles] == [2, 2, 2]
    assert code == cli.EXIT_OK, printed
    assert "ok       Verify" in printed
