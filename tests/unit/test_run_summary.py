"""The run summary of a run its preflight stopped, and of a run that undid its writes."""

from __future__ import annotations

import io
from typing import Any

from expel_onboarding import summary
from expel_onboarding.reports import Status, StepReport
from expel_onboarding_cli import cli
from tests.unit.test_custom_resource_moves import SETTINGS

OVERLAP = "NotificationOverlap: the bucket already sends these events to 'siem'. To fix it: set NotificationPrefix."


def report(name: str, status: Status, detail: str = "fine") -> dict[str, Any]:
    return StepReport(name, status, detail).to_dict()


def stopped_by_preflight() -> dict[str, Any]:
    return {
        "Mode": "apply",
        "Discover": report("Discover", Status.OK),
        "Ownership": report("Ownership", Status.OK),
        "Preflight": {
            "KeyPolicy": report("KeyPolicy", Status.DRIFTED, "Would add our statement."),
            "Notification": report("Notification", Status.FAILED, OVERLAP),
        },
    }


def test_a_run_its_preflight_stopped_fails_with_the_refusing_step_and_its_fix() -> None:
    run = summary.summarize(stopped_by_preflight(), SETTINGS)
    assert run["Failed"] is True
    assert run["FailureCause"] == OVERLAP
    assert [(s["Name"], s["Status"]) for s in run["Steps"]] == [
        ("Discover", "OK"),
        ("Ownership", "OK"),
        ("Notification", "FAILED"),
    ]
    assert run["Changed"] is False
    assert cli.exit_code(run) == cli.EXIT_FAILED


def test_a_run_that_failed_after_a_write_shows_what_it_undid_after_the_failure() -> None:
    state = {
        "Mode": "apply",
        "Discover": report("Discover", Status.OK),
        "Ownership": report("Ownership", Status.OK),
        "Preflight": {
            "KeyPolicy": report("KeyPolicy", Status.DRIFTED),
            "Notification": report("Notification", Status.DRIFTED),
        },
        "KeyPolicy": report("KeyPolicy", Status.CHANGED, "Added our statement."),
        "Failure": {"Error": "AwsThrottled", "Cause": '{"errorType": "AwsThrottled", "errorMessage": "slow down"}'},
        "UndoKeyPolicy": report("KeyPolicy", Status.CHANGED, "Undone: Removed our statement."),
    }
    run = summary.summarize(state, SETTINGS)
    assert run["Failed"] is True
    assert run["FailureCause"] == "AwsThrottled: slow down"
    assert [(s["Name"], s["Status"]) for s in run["Steps"]] == [
        ("Discover", "OK"),
        ("Ownership", "OK"),
        ("KeyPolicy", "CHANGED"),
        ("Notification", "FAILED"),
        ("UndoKeyPolicy", "CHANGED"),
    ]


def test_an_undo_that_failed_is_a_failed_row_and_an_undo_that_needs_a_person_is_action_required() -> None:
    state = {
        "Mode": "remove",
        "Discover": report("Discover", Status.OK),
        "Notification": report("Notification", Status.CHANGED),
        "Failure": {"Error": "KeyNotUsable", "Cause": "the key is pending deletion"},
        "UndoNotification": report("Notification", Status.ACTION_REQUIRED, "Put back only ours with: aws s3api"),
        "UndoFailure": {"Error": "AwsThrottled", "Cause": "slow down"},
    }
    run = summary.summarize(state, SETTINGS)
    names = [(s["Name"], s["Status"]) for s in run["Steps"]]
    assert names[-2:] == [("UndoNotification", "ACTION_REQUIRED"), ("Undo", "FAILED")]
    assert run["ActionRequired"] == ["UndoNotification"]


def failed_removal() -> dict[str, Any]:
    key_arn = "arn:aws:kms:us-east-1:111111111111:key/0a1b2c3d-0000-0000-0000-000000000000"
    return {
        "Mode": "remove",
        "Discover": {**report("Discover", Status.OK), "Data": {"CloudTrailKeyArn": key_arn}},
        "Notification": report("Notification", Status.CHANGED, "Removed our entry."),
        "Failure": {"Error": "KeyNotUsable", "Cause": "KeyNotUsable: the key is pending deletion."},
        "UndoNotification": report("Notification", Status.CHANGED, "Undone: the configuration is back."),
    }


def test_a_failed_removal_says_what_it_left_where_and_the_command_that_removes_each() -> None:
    run = summary.summarize(failed_removal(), SETTINGS)
    target = SETTINGS.notification_target()
    assert [item["What"] for item in run["Remaining"]] == ["our notification entry", "our key policy statement"]
    entry, statement = run["Remaining"]
    assert entry["Where"] == f"{target.bucket}, entry '{target.entry_id}'"
    assert entry["Command"].startswith(f"aws s3api get-bucket-notification-configuration --bucket {target.bucket} ")
    assert statement["Command"].startswith("aws kms get-key-policy --key-id arn:aws:kms:us-east-1:111111111111:key/")
    # First in the cause, so CloudFormation's 256-character Reason keeps it.
    assert run["FailureCause"].startswith("Left in place: our notification entry (")


def test_a_removal_that_converged_leaves_nothing_to_list() -> None:
    state = failed_removal()
    del state["Failure"], state["UndoNotification"]
    state["KeyPolicy"] = report("KeyPolicy", Status.CHANGED)
    state["Ownership"] = report("Ownership", Status.OK)
    assert summary.summarize(state, SETTINGS)["Remaining"] == []


def test_the_cli_prints_what_a_failed_removal_left_and_each_command() -> None:
    out = io.StringIO()
    run = summary.summarize(failed_removal(), SETTINGS)
    cli.print_summary(run, out)
    text = out.getvalue()
    assert "UndoNotification  CHANGED" in text
    assert "Left in place by this removal" in text
    for item in run["Remaining"]:
        assert item["Command"] in text
