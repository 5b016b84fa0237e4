"""End to end: the real template, deployed through the local AWS's CloudFormation, on a seeded
Control Tower landing zone; its custom resource runs the real state machine. In order."""

from __future__ import annotations

import json

import boto3

from localaws import clients, demo, deploy, landing_zone, stack_parameters
from localaws.aws_calls import AwsCalls
from tests.e2e.conftest import Deployed


def test_deploy_outputs_the_workbench_values(deployed: Deployed) -> None:
    outputs = deployed.outputs
    assert outputs["RoleArn"] == f"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:role/ExpelTrailAssumeRole"
    assert outputs["SqsUrl"].startswith(
        f"https://sqs.us-east-1.amazonaws.com/{landing_zone.LOG_ARCHIVE}/expel-cloudtrail-onboarding-NotificationQueue-"
    )
    assert outputs["ManagementAccountId"] == landing_zone.MANAGEMENT
    assert outputs["Region"] == "us-east-1"
    assert outputs["ActionRequired"] == "none"


def test_the_key_policy_got_our_statement_from_the_management_account(deployed: Deployed) -> None:
    policy = landing_zone.key_policy_of(deployed.zone.cloudtrail_key_arn)
    ours = [s for s in policy["Statement"] if s.get("Sid", "").startswith("ExpelOnboarding")]
    assert len(ours) == 1
    assert (
        policy["Statement"][: len(deployed.key_policy_before["Statement"])] == deployed.key_policy_before["Statement"]
    )


def test_a_log_object_reaches_the_queue_through_sns(deployed: Deployed) -> None:
    delivered = demo.deliver_a_log_object(deployed.zone, deployed.outputs)
    assert delivered.startswith("aws:s3 ObjectCreated:Put s3://aws-controltower-logs-")


def test_every_foreign_notification_entry_is_intact(deployed: Deployed) -> None:
    after = landing_zone.notifications_of(deployed.zone.bucket)
    for list_name, entries in deployed.notifications_before.items():
        assert after[list_name][: len(entries)] == entries


def test_a_second_deploy_of_the_same_stack_writes_nothing(deployed: Deployed) -> None:
    calls = AwsCalls().start()
    outputs = deploy.deploy(stack_parameters.parameters(deployed.zone))
    assert outputs == deployed.outputs
    packaging = {"s3:CreateBucket", "s3:PutObject", "cloudformation:UpdateStack"}
    assert [call for call in calls.writes if call not in packaging] == []
    assert "s3:PutBucketNotificationConfiguration" not in calls.made
    assert "kms:PutKeyPolicy" not in calls.made


def test_drift_is_reported_by_check_and_fixed_by_repair(deployed: Deployed) -> None:
    demo.drop_our_entry(deployed.zone.bucket)
    code, printed = demo.run_cli("check", endpoint=deployed.endpoint)
    assert code == 2, printed
    assert "DRIFTED  Notification" in printed
    code, printed = demo.run_cli("repair", endpoint=deployed.endpoint)
    assert code == 0, printed
    assert demo.run_cli("check", endpoint=deployed.endpoint)[0] == 0


def test_the_drift_check_is_scheduled_and_alarmed(deployed: Deployed) -> None:
    (schedule,) = boto3.client("scheduler").list_schedules()["Schedules"]
    detail = boto3.client("scheduler").get_schedule(Name=schedule["Name"])
    assert detail["ScheduleExpression"] == "rate(1 day)"
    assert json.loads(detail["Target"]["Input"]) == {"Mode": "check"}
    assert detail["Target"]["Arn"] == deployed.outputs["StateMachineArn"]
    alarms = {a["AlarmName"]: a for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert alarms["expel-cloudtrail-onboarding-drift"]["MetricName"] == "DriftedSteps"


def test_deleting_the_stack_restores_the_bucket_and_the_key_policy_exactly(deployed: Deployed) -> None:
    deploy.destroy()
    demo.wait_deleted()
    assert landing_zone.notifications_of(deployed.zone.bucket) == deployed.notifications_before
    assert landing_zone.key_policy_of(deployed.zone.cloudtrail_key_arn) == deployed.key_policy_before
    assert deploy.STACK not in {
        s["StackName"]
        for s in clients.cloudformation().list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    }
