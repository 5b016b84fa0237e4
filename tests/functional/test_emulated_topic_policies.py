"""The local AWS evaluates a topic's policy for callers of another account, as SNS does."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from localaws import clients
from localaws.accounts import AUDIT, LOG_ARCHIVE, REGION, as_account


def audit_topic(statement: dict[str, object] | None = None) -> str:
    """A topic in the Audit account whose policy lets CloudTrail publish, and grants statement if given."""
    arn = f"arn:aws:sns:{REGION}:{AUDIT}:shared"
    publish = {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish"}
    policy = {"Version": "2012-10-17", "Statement": [{**publish, "Resource": arn}, *([statement] if statement else [])]}
    with as_account(AUDIT):
        clients.sns().create_topic(Name="shared", Attributes={"Policy": json.dumps(policy)})
    return arn


def queue_arn() -> str:
    url = clients.sqs().create_queue(QueueName="ours")["QueueUrl"]
    return str(clients.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def test_another_accounts_subscribe_is_refused_when_the_topic_policy_does_not_grant_it() -> None:
    topic = audit_topic()
    with pytest.raises(ClientError) as refused:
        clients.sns().subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn())
    error = refused.value.response["Error"]
    assert error["Code"] == "AuthorizationError"
    assert f"is not authorized to perform: SNS:Subscribe on resource: {topic}" in error["Message"]
    assert "explicit deny" not in error["Message"]


def test_another_accounts_subscribe_is_allowed_when_the_topic_policy_names_its_account() -> None:
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"},
        "Action": ["sns:Subscribe", "sns:ListSubscriptionsByTopic"],
        "Resource": f"arn:aws:sns:{REGION}:{AUDIT}:shared",
    }
    topic = audit_topic(grant)
    subscribed = clients.sns().subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn())
    assert subscribed["SubscriptionArn"].startswith(topic)


def test_the_topics_own_account_is_not_held_to_its_policy() -> None:
    topic = audit_topic()
    with as_account(AUDIT):
        assert clients.sns().get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic
