"""The delivery-health alarms watch what check's delivery report judges, with the same thresholds."""

from __future__ import annotations

from typing import Any

import pytest

from expel_onboarding import health
from tests.support.cfn_template import evaluate_conditions, resolve_conditions

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
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "RelayFunction"}}]
    stopped = alarm(template, "DriftCheckNotRunningAlarm")
    assert (stopped["Namespace"], stopped["MetricName"]) == ("AWS/States", "ExecutionsStarted")
    assert stopped["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "OnboardingStateMachine"}}]
    assert (stopped["Period"], stopped["TreatMissingData"]) == (86400, "breaching")
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
