"""The real ASL file, run by moto's Step Functions interpreter, with the real handlers in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from expel_onboarding import errors, notification
from localaws import clients, deployment, landing_zone
from localaws.aws_calls import AwsCalls

OUR_ENTRY_PREFIX = "ExpelOnboarding"
ORCHESTRATION_SERVICES = ("stepfunctions:", "lambda:")


def statuses(summary: dict[str, Any]) -> dict[str, str]:
    return {step["Name"]: step["Status"] for step in summary["Steps"]}


def output(description: dict[str, Any]) -> dict[str, Any]:
    assert description["status"] == "SUCCEEDED", description.get("cause")
    parsed: dict[str, Any] = json.loads(description["output"])
    return parsed


def step_calls(calls: AwsCalls) -> list[str]:
    """The AWS calls the steps made, without the test's and the interpreter's own."""
    return [call for call in calls.made if not call.startswith(ORCHESTRATION_SERVICES)]


def drop_our_notification(bucket: str) -> None:
    s3 = clients.s3()
    config = landing_zone.notifications_of(bucket)
    config["TopicConfigurations"] = [
        entry for entry in config.get("TopicConfigurations", []) if not entry["Id"].startswith(OUR_ENTRY_PREFIX)
    ]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)  # type: ignore[arg-type]


def test_apply_onboards_and_returns_the_workbench_values(
    workflow: deployment.Workflow, stack_environment: dict[str, str]
) -> None:
    result = output(deployment.run(workflow, {"Mode": "apply"}))
    assert result["ManagementAccountId"] == landing_zone.MANAGEMENT
    assert result["RoleArn"] == stack_environment["EXPEL_ROLE_ARN"]
    assert result["SqsUrl"] == stack_environment["QUEUE_URL"]
    assert result["Region"] == "us-east-1"
    assert result["Mode"] == "apply"
    assert statuses(result) == {
        "Discover": "OK",
        "Ownership": "OK",
        "KeyPolicy": "CHANGED",
        "Notification": "CHANGED",
        "Verify": "OK",
    }
    assert result["Changed"] is True


def test_check_on_a_converged_setup_writes_nothing_and_reports_all_ok(workflow: deployment.Workflow) -> None:
    deployment.run(workflow, {"Mode": "apply"})
    calls = AwsCalls().start()
    result = output(deployment.run(workflow, {"Mode": "check"}))
    assert set(statuses(result).values()) == {"OK"}
    assert result["Changed"] is False
    assert calls.writes == []
    # Discover 2, Ownership 1, KeyPolicy 2 (AssumeRole, GetKeyPolicy), Notification 1, Verify 3 (the policy
    # simulator: Workbench's reads, each with its request context).
    assert len(step_calls(calls)) == 9, step_calls(calls)


def test_check_with_the_key_given_as_a_parameter_makes_nine_calls(
    stack_environment: dict[str, str], zone: landing_zone.LandingZone
) -> None:
    workflow = deployment.deploy({**stack_environment, "CLOUDTRAIL_KEY_ARN": zone.cloudtrail_key_arn}, name="keyed")
    deployment.run(workflow, {"Mode": "apply"})
    calls = AwsCalls().start()
    result = output(deployment.run(workflow, {"Mode": "check"}))
    assert set(statuses(result).values()) == {"OK"}
    assert calls.writes == []
    # The trail is read even with the key given: it is compared with the trail the stack was built for.
    assert len(step_calls(calls)) == 9, step_calls(calls)


def test_repair_on_a_converged_setup_writes_nothing(workflow: deployment.Workflow) -> None:
    deployment.run(workflow, {"Mode": "apply"})
    calls = AwsCalls().start()
    result = output(deployment.run(workflow, {"Mode": "repair"}))
    assert set(statuses(result).values()) == {"OK"}
    assert calls.writes == []


def test_check_reports_a_deleted_entry_as_drift_without_repairing_it(
    workflow: deployment.Workflow, zone: landing_zone.LandingZone
) -> None:
    deployment.run(workflow, {"Mode": "apply"})
    drop_our_notification(zone.bucket)
    calls = AwsCalls().start()
    result = output(deployment.run(workflow, {"Mode": "check"}))
    assert statuses(result)["Notification"] == "DRIFTED"
    assert calls.writes == []


def test_repair_restores_a_deleted_entry(workflow: deployment.Workflow, zone: landing_zone.LandingZone) -> None:
    deployment.run(workflow, {"Mode": "apply"})
    drop_our_notification(zone.bucket)
    repaired = output(deployment.run(workflow, {"Mode": "repair"}))
    assert statuses(repaired)["Notification"] == "CHANGED"
    assert set(statuses(output(deployment.run(workflow, {"Mode": "check"}))).values()) == {"OK"}


def test_remove_runs_in_reverse_and_restores_every_foreign_document(
    workflow: deployment.Workflow, zone: landing_zone.LandingZone
) -> None:
    deployment.run(workflow, {"Mode": "apply"})
    result = output(deployment.run(workflow, {"Mode": "remove"}))
    assert [step["Name"] for step in result["Steps"]] == ["Discover", "Notification", "KeyPolicy", "Ownership"]
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy


def test_a_refusal_found_in_preflight_fails_the_run_with_its_cause_before_any_write(
    stack_environment: dict[str, str], zone: landing_zone.LandingZone
) -> None:
    # Without a prefix our entry overlaps the security-lake team's ObjectCreated entry.
    workflow = deployment.deploy({**stack_environment, "NOTIFICATION_PREFIX": ""})
    description = deployment.run(workflow, {"Mode": "apply"})
    assert description["status"] == "FAILED"
    assert description["error"] == "StepFailed"
    assert description["cause"].startswith("NotificationOverlap: ")
    assert "security-lake" in description["cause"]
    summary = deployment.summary(description)
    # The preflight met the overlap before KeyPolicy wrote: neither document changed.
    assert statuses(summary) == {"Discover": "OK", "Ownership": "OK", "Notification": "FAILED"}
    assert "Nothing was written" in description["cause"]
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy


def test_a_throttled_step_is_retried(workflow: deployment.Workflow, monkeypatch: pytest.MonkeyPatch) -> None:
    real_read = notification.read
    attempts: list[int] = []

    def throttled_once(s3: Any, target: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise errors.AwsThrottled("s3:GetBucketNotification was throttled: SlowDown")
        return real_read(s3, target)

    monkeypatch.setattr(notification, "read", throttled_once)
    result = output(deployment.run(workflow, {"Mode": "apply"}))
    assert statuses(result)["Notification"] == "CHANGED"
    assert len(attempts) >= 2


def test_an_unknown_mode_fails_at_the_first_step(workflow: deployment.Workflow) -> None:
    description = deployment.run(workflow, {"Mode": "fix"})
    assert description["status"] == "FAILED"
    assert description["cause"].startswith("InvalidInput: The event's Mode is 'fix'.")


def test_remove_after_the_bucket_was_deleted_still_removes_our_key_statement(
    workflow: deployment.Workflow, zone: landing_zone.LandingZone
) -> None:
    deployment.run(workflow, {"Mode": "apply"})
    s3 = clients.s3()
    s3.put_bucket_notification_configuration(Bucket=zone.bucket, NotificationConfiguration={})
    for item in s3.list_objects_v2(Bucket=zone.bucket).get("Contents", []):
        s3.delete_object(Bucket=zone.bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=zone.bucket)
    result = output(deployment.run(workflow, {"Mode": "remove"}))
    assert statuses(result)["KeyPolicy"] == "CHANGED"
    assert "is gone" in next(step["Detail"] for step in result["Steps"] if step["Name"] == "Discover")
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy
