"""Trail-topic delivery: the relay queue's subscription to the trail's topic, under moto and the Stubber."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from expel_onboarding import notification, subscription
from expel_onboarding.reports import Mode, Status
from localaws import clients
from localaws.aws_calls import AwsCalls
from tests.support.stubbed import explicit_deny, stubbable_client

ACCOUNT = "123456789012"


@pytest.fixture
def target() -> subscription.Target:
    sns, sqs = clients.sns(), clients.sqs()
    topic = sns.create_topic(Name="aws-controltower-CentralizedLoggingNotifications")["TopicArn"]
    arns = []
    for name in ("relay", "relay-dead-letters"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arns.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    return subscription.Target(topic, arns[0], arns[1], ACCOUNT)


def subscriptions(target: subscription.Target) -> list[dict[str, Any]]:
    return subscription.ours(clients.sns(), target)


def test_apply_subscribes_the_relay_with_every_attribute_in_the_subscribe_call(
    target: subscription.Target, calls: AwsCalls
) -> None:
    report = subscription.converge(clients.sns(), target, Mode.APPLY)
    assert report.status is Status.CHANGED
    (ours,) = subscriptions(target)
    attributes = clients.sns().get_subscription_attributes(SubscriptionArn=ours["SubscriptionArn"])["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": target.dead_letter_arn}
    # CT.SNS.PV.1 denies SetSubscriptionAttributes: it must never be needed.
    assert "sns:SetSubscriptionAttributes" not in calls.made


def test_a_converged_subscription_is_two_reads_and_no_write(target: subscription.Target) -> None:
    subscription.converge(clients.sns(), target, Mode.APPLY)
    calls = AwsCalls().start()
    for mode in (Mode.CHECK, Mode.REPAIR, Mode.APPLY):
        assert subscription.converge(clients.sns(), target, mode).status is Status.OK
    assert calls.writes == []
    assert len(calls.made) == 6


def test_check_reports_a_missing_subscription_as_drift_and_writes_nothing(
    target: subscription.Target, calls: AwsCalls
) -> None:
    report = subscription.converge(clients.sns(), target, Mode.CHECK)
    assert report.status is Status.DRIFTED
    assert "not subscribed" in report.detail
    assert calls.writes == []


def test_repair_replaces_a_subscription_whose_raw_delivery_was_turned_off(target: subscription.Target) -> None:
    sns = clients.sns()
    wrong = sns.subscribe(
        TopicArn=target.topic_arn, Protocol="sqs", Endpoint=target.queue_arn, ReturnSubscriptionArn=True
    )
    assert subscription.converge(sns, target, Mode.CHECK).status is Status.DRIFTED
    report = subscription.converge(sns, target, Mode.REPAIR)
    assert report.status is Status.CHANGED
    assert "raw message delivery is off" in report.detail
    (ours,) = subscriptions(target)
    assert ours["SubscriptionArn"] != wrong["SubscriptionArn"]
    assert subscription.converge(sns, target, Mode.CHECK).status is Status.OK


def test_remove_unsubscribes_only_the_relay(target: subscription.Target) -> None:
    sns, sqs = clients.sns(), clients.sqs()
    other_url = sqs.create_queue(QueueName="security-lake")["QueueUrl"]
    other = sqs.get_queue_attributes(QueueUrl=other_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=target.topic_arn, Protocol="sqs", Endpoint=other)
    subscription.converge(sns, target, Mode.APPLY)
    assert subscription.converge(sns, target, Mode.REMOVE).status is Status.CHANGED
    remaining = sns.list_subscriptions_by_topic(TopicArn=target.topic_arn)["Subscriptions"]
    assert [s["Endpoint"] for s in remaining] == [other]
    assert subscription.converge(sns, target, Mode.REMOVE).status is Status.OK


def cross_account_target() -> subscription.Target:
    topic = "arn:aws:sns:us-east-1:222222222222:aws-controltower-AllConfigNotifications"
    return subscription.Target(topic, f"arn:aws:sqs:us-east-1:{ACCOUNT}:relay", "arn:aws:sqs:us-east-1:1:dlq", ACCOUNT)


def test_a_topic_whose_policy_refuses_us_is_action_required_naming_topic_account_and_what_to_ask() -> None:
    # moto does not evaluate topic policies: SNS answers a refusal with AuthorizationError (SNS API
    # reference, "Subscribe", Errors), which only the Stubber can show here.
    target = cross_account_target()
    sns = stubbable_client("sns")
    with Stubber(sns) as stub:
        stub.add_client_error(
            "list_subscriptions_by_topic",
            service_error_code="AuthorizationError",
            service_message="User: arn:aws:sts::123456789012:assumed-role/fn/x is not authorized to perform: "
            "SNS:ListSubscriptionsByTopic on resource: " + target.topic_arn,
            http_status_code=403,
        )
        report = subscription.converge(sns, target, Mode.APPLY)
    assert report.status is Status.ACTION_REQUIRED
    assert target.topic_arn in report.detail
    assert "account 222222222222" in report.detail
    assert "allow sns:Subscribe" in report.detail
    assert "the topic's policy" in report.detail


def test_an_explicit_deny_on_subscribe_is_action_required_and_says_so() -> None:
    target = cross_account_target()
    sns = stubbable_client("sns")
    with Stubber(sns) as stub:
        stub.add_response("list_subscriptions_by_topic", {"Subscriptions": []}, {"TopicArn": target.topic_arn})
        deny = explicit_deny("sns:Subscribe", target.topic_arn)
        stub.add_client_error("subscribe", **{**deny, "service_error_code": "AuthorizationError"})
        report = subscription.converge(sns, target, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "explicit deny" in report.detail
    assert "sns:Subscribe" in report.detail


def test_subscribe_gives_every_attribute_at_once_as_ct_sns_pv_1_requires() -> None:
    target = cross_account_target()
    sns = stubbable_client("sns")
    with Stubber(sns) as stub:
        stub.add_response("list_subscriptions_by_topic", {"Subscriptions": []}, {"TopicArn": target.topic_arn})
        expected = {
            "TopicArn": target.topic_arn,
            "Protocol": "sqs",
            "Endpoint": target.queue_arn,
            "Attributes": subscription.attributes(target),
            "ReturnSubscriptionArn": True,
        }
        stub.add_response("subscribe", {"SubscriptionArn": f"{target.topic_arn}:1"}, expected)
        report = subscription.converge(sns, target, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.CHANGED


def test_a_leftover_bucket_entry_is_reported_with_the_exact_command_and_never_written() -> None:
    bucket_target = notification.Target("logs", ACCOUNT, "ExpelOnboardingABC", "arn:aws:sns:us-east-1:1:t", "AWSLogs/")
    config = notification.merge({}, notification.our_entry(bucket_target))
    s3_stub = stubbable_client("s3")
    with Stubber(s3_stub) as stub:
        stub.add_response("get_bucket_notification_configuration", config)
        report = subscription.leftover_bucket_entry(s3_stub, bucket_target)
        stub.assert_no_pending_responses()
    assert report is not None
    assert report.status is Status.ACTION_REQUIRED
    assert "twice" in report.detail
    assert "put-bucket-notification-configuration --bucket logs --notification-configuration '{}'" in report.detail
