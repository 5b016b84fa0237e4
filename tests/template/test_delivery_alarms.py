"""The delivery-health alarms watch what check's delivery report judges, with the same thresholds."""

from __future__ import annotations

from typing import Any

import pytest

from expel_onboarding_cli import health
from tests.support.cfn_template import ROOT, evaluate_conditions, resolve_conditions

FEED_ALARMS = ("FeedSilentAlarm", "WorkbenchNotConsumingAlarm", "RelayErrorsAlarm", "DriftCheckNotRunningAlarm")


def alarm(template: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][name]["Properties"]
    return properties


def test_silence_is_20_minutes_of_no_event_on_workbenchs_topic_with_missing_data_as_silence(
    template: dict[str, Any],
) -> None:
    silent = alarm(template, "FeedSilentAlarm")
    assert (silent["Namespace"], silent["MetricName"]) == ("AWS/SNS", "NumberOfMessagesPublished")
    assert silent["Dimensions"] == [{"Name": "TopicName", "Value": {"Fn::GetAtt": ["NotificationTopic", "TopicName"]}}]
    assert silent["Period"] == health.PERIOD_SECONDS
    assert silent["Period"] * silent["EvaluationPeriods"] == health.SILENCE.total_seconds()
    assert silent["DatapointsToAlarm"] == silent["EvaluationPeriods"]
    assert (silent["Statistic"], silent["ComparisonOperator"], silent["Threshold"]) == ("Sum", "LessThanThreshold", 1)
    assert silent["TreatMissingData"] == "breaching"


def test_workbench_not_consuming_is_its_queues_oldest_message_older_than_an_hour(template: dict[str, Any]) -> None:
    waiting = alarm(template, "WorkbenchNotConsumingAlarm")
    assert (waiting["Namespace"], waiting["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert waiting["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["NotificationQueue", "QueueName"]}}]
    assert (waiting["ComparisonOperator"], waiting["Threshold"]) == (
        "GreaterThanThreshold",
        health.CONSUMER_MAX_AGE.total_seconds(),
    )
    assert waiting["TreatMissingData"] == "notBreaching"


def test_relay_errors_and_a_drift_check_that_stopped_running_alarm_too(template: dict[str, Any]) -> None:
    errors = alarm(template, "RelayErrorsAlarm")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert (errors["Namespace"], errors["MetricName"]) == (
        variables["POWERTOOLS_METRICS_NAMESPACE"],
        "RecordsNotRelayed",
    )
    assert errors["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert 'name="RecordsNotRelayed"' in (ROOT / "functions" / "relay" / "app.py").read_text(encoding="utf-8")
    stopped = alarm(template, "DriftCheckNotRunningAlarm")
    assert (stopped["Namespace"], stopped["MetricName"]) == ("AWS/States", "ExecutionsStarted")
    assert stopped["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "OnboardingStateMachine"}}]
    # No start in 26 hours: a daily schedule with its flexible window never trips it.
    assert stopped["Period"] * stopped["DatapointsToAlarm"] == 26 * 3600
    assert stopped["TreatMissingData"] == "breaching"
    # The dead letters have their alarm already, and failed runs theirs.
    assert {"RelayDeadLetterAlarm", "RunFailedAlarm"} <= set(template["Resources"])


@pytest.mark.parametrize("name", FEED_ALARMS)
def test_each_feed_alarm_says_why_it_fires_and_emails_only_when_an_address_is_given(
    template: dict[str, Any], name: str
) -> None:
    assert len(alarm(template, name)["AlarmDescription"]) > 100
    for email, actions in (("", None), ("secops@example.com", [{"Ref": "AlarmTopic"}])):
        resolved = resolve_conditions(template, evaluate_conditions(template, {"AlarmEmail": email}))
        assert resolved["Resources"][name]["Properties"].get("AlarmActions") == actions


def test_every_alarm_that_emails_may_use_the_encrypted_alarm_topic_and_its_key(template: dict[str, Any]) -> None:
    # CloudWatch publishes to an encrypted topic only with the key's grant and the topic's (Amazon SNS
    # developer guide, "Encryption at rest": compatibility with AWS services); both name our alarms one by one.
    suffix = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
    key = template["Resources"]["NotificationKey"]["Properties"]["KeyPolicy"]["Statement"]
    (grant,) = [s["Fn::If"][1] for s in key if isinstance(s, dict) and "Fn::If" in s
                if s["Fn::If"][1].get("Sid") == "AllowOurAlarmsToNotifyTheEncryptedAlarmTopic"]  # fmt: skip
    topic = template["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    for statement in (grant, topic):
        allowed = {arn["Fn::Sub"].removeprefix(suffix) for arn in statement["Condition"]["ArnLike"]["aws:SourceArn"]}
        emailing = {
            properties["AlarmName"]["Fn::Sub"]
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::CloudWatch::Alarm"
            for properties in [resource["Properties"]]
            if "AlarmActions" in properties
        }
        assert emailing == allowed
