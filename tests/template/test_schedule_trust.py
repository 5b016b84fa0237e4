"""The drift schedule's role: EventBridge Scheduler must be able to assume it, and only for our schedule group."""

from __future__ import annotations

from typing import Any


def test_the_drift_check_role_trusts_the_schedule_group_the_schedule_is_in(template: dict[str, Any]) -> None:
    # Scheduler's confused-deputy condition names the schedule group, not the schedule (EventBridge
    # Scheduler user guide, "Setting up the execution role"); a schedule ARN would never match.
    (statement,) = template["Resources"]["DriftCheckRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/default"
    }
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    schedule = template["Resources"]["DriftCheck"]["Properties"]
    assert schedule.get("GroupName", "default") == "default"
