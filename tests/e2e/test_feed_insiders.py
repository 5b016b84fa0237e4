"""A feed no insider can bend: on a deployed landing zone 4.0 (the relay in use), no principal of the Log
Archive account but the intended ones can publish to our topic, subscribe to it, send to or take from
Workbench's queue or the relay's, purge them or change them, whatever its IAM policies allow. Workbench, the
relay and replay keep working, and CloudFormation can still update and delete the stack. The local AWS
enforces the topic's and the queues' explicit Denies (localaws.resource_denies)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localaws import clients, demo, deploy, landing_zone, stack_parameters
from localaws.accounts import LOG_ARCHIVE, REGION
from localaws.policy_language import applies, principal_matches, statements
from tests.support.local_aws import local_aws


@dataclass
class Feed:
    zone: landing_zone.LandingZone
    outputs: dict[str, str]
    parameters: dict[str, str]
    topic_arn: str
    queue_url: str
    relay_queue_url: str
    dead_letter_queue_url: str


def physical(logical_id: str) -> str:
    found = clients.cloudformation().describe_stack_resource(StackName=deploy.STACK, LogicalResourceId=logical_id)
    return found["StackResourceDetail"]["PhysicalResourceId"]


@pytest.fixture(scope="module")
def feed() -> Iterator[Feed]:
    with local_aws():
        zone = landing_zone.seed("4.0")
        parameters = stack_parameters.parameters(zone, stack_parameters.deploy_org(zone))
        outputs = deploy.deploy(parameters)
        yield Feed(
            zone,
            outputs,
            parameters,
            physical("NotificationTopic"),
            outputs["SqsUrl"],
            physical("RelayQueue"),
            physical("RelayDeadLetterQueue"),
        )


def insider(name: str) -> boto3.Session:
    """A session of another team's role in the Log Archive account (made here, trusting the account)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = clients.iam().create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    keys = clients.sts().assume_role(RoleArn=role["Arn"], RoleSessionName=name)["Credentials"]
    return boto3.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
        region_name=REGION,
    )


def denied(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["Error"]["Code"] in ("AuthorizationError", "AccessDenied")
    message = str(refused.value.response["Error"]["Message"])
    assert "with an explicit deny in a resource-based policy" in message
    return message


def test_another_team_can_neither_publish_nor_subscribe_nor_change_our_topic(feed: Feed) -> None:
    sns = insider("another-team-sns").client("sns")
    body = json.dumps({"Records": []})
    assert "SNS:Publish" in denied(lambda: sns.publish(TopicArn=feed.topic_arn, Message=body))
    entries = [{"Id": "1", "Message": body}]
    denied(lambda: sns.publish_batch(TopicArn=feed.topic_arn, PublishBatchRequestEntries=entries))
    theirs = clients.sqs().create_queue(QueueName="their-copy")["QueueUrl"]
    their_arn = clients.sqs().get_queue_attributes(QueueUrl=theirs, AttributeNames=["QueueArn"])["Attributes"]
    denied(lambda: sns.subscribe(TopicArn=feed.topic_arn, Protocol="sqs", Endpoint=their_arn["QueueArn"]))
    denied(lambda: sns.set_topic_attributes(TopicArn=feed.topic_arn, AttributeName="Policy", AttributeValue="{}"))
    denied(lambda: sns.delete_topic(TopicArn=feed.topic_arn))
    assert [s["Endpoint"] for s in clients.sns().list_subscriptions_by_topic(TopicArn=feed.topic_arn)["Subscriptions"]]
    assert feed.topic_arn in [t["TopicArn"] for t in clients.sns().list_topics()["Topics"]]


def test_another_team_can_neither_read_nor_feed_nor_purge_nor_change_workbenchs_queue(feed: Feed) -> None:
    sqs = insider("another-team-sqs").client("sqs")
    url = feed.queue_url
    denied(lambda: sqs.receive_message(QueueUrl=url))
    denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="{}"))
    denied(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "{}"}]))
    denied(lambda: sqs.purge_queue(QueueUrl=url))
    denied(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"}))
    denied(lambda: sqs.delete_queue(QueueUrl=url))


def test_the_accounts_own_administrator_is_refused_too(feed: Feed) -> None:
    # The default credentials here are the Log Archive account's root: a resource policy's Deny binds it too.
    message = denied(lambda: clients.sqs().purge_queue(QueueUrl=feed.queue_url))
    assert f"arn:aws:iam::{LOG_ARCHIVE}:root" in message
    denied(lambda: clients.sns().publish(TopicArn=feed.topic_arn, Message="{}"))


def test_only_the_relay_takes_the_relay_queues_messages_and_nobody_purges_the_dead_letters(feed: Feed) -> None:
    sqs = insider("another-team-relay").client("sqs")
    denied(lambda: sqs.receive_message(QueueUrl=feed.relay_queue_url))
    denied(lambda: sqs.purge_queue(QueueUrl=feed.relay_queue_url))
    denied(lambda: sqs.purge_queue(QueueUrl=feed.dead_letter_queue_url))
    denied(lambda: sqs.set_queue_attributes(QueueUrl=feed.relay_queue_url, Attributes={"DelaySeconds": "900"}))
    # Dead letters stay readable and movable by a person: the README's fix for the dead-letter alarm.
    assert "Messages" not in sqs.receive_message(QueueUrl=feed.dead_letter_queue_url)


def test_workbench_still_gets_each_log_file_through_the_relay(feed: Feed) -> None:
    received = demo.deliver_a_log_object(feed.zone, feed.outputs)
    assert received.startswith("aws:s3 ObjectCreated:Put")


# What CloudFormation calls on a queue and a topic to create, update and delete them.
CLOUDFORMATION_QUEUE_ACTIONS = ("SetQueueAttributes", "GetQueueAttributes", "TagQueue", "UntagQueue", "DeleteQueue")
CLOUDFORMATION_TOPIC_ACTIONS = (
    "SetTopicAttributes",
    "GetTopicAttributes",
    "Subscribe",
    "Unsubscribe",
    "TagResource",
    "DeleteTopic",
)


def cloudformations_calls(feed: Feed) -> list[tuple[str, str, str]]:
    """Each call CloudFormation makes on our topic and queues, with the resource and its policy."""
    topic_policy = clients.sns().get_topic_attributes(TopicArn=feed.topic_arn)["Attributes"]["Policy"]
    found = [(f"sns:{action}", feed.topic_arn, topic_policy) for action in CLOUDFORMATION_TOPIC_ACTIONS]
    for url in (feed.queue_url, feed.relay_queue_url, feed.dead_letter_queue_url):
        attributes = clients.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy"])
        arn, policy = attributes["Attributes"]["QueueArn"], attributes["Attributes"]["Policy"]
        found += [(f"sqs:{action}", arn, policy) for action in CLOUDFORMATION_QUEUE_ACTIONS]
    return found


def test_no_deny_touches_a_call_cloudformation_makes(feed: Feed) -> None:
    # CloudFormation makes every resource call with a forward access session, with or without a stack role
    # (CloudFormation user guide, "Forward access sessions (FAS) requests and permission evaluation"), so the
    # call carries aws:CalledVia and aws:ViaAWSService; its Subscribe names Workbench's queue. Whoever deploys,
    # no Deny applies.
    queue_arn = clients.sqs().get_queue_attributes(QueueUrl=feed.queue_url, AttributeNames=["QueueArn"])
    deployer = f"arn:aws:iam::{LOG_ARCHIVE}:role/AWSReservedSSO_AdministratorAccess_0123456789abcdef"
    context = {
        "aws:principalarn": deployer,
        "aws:principalaccount": LOG_ARCHIVE,
        "aws:principalisawsservice": "false",
        "aws:viaawsservice": "true",
        "aws:calledvia": ("cloudformation.amazonaws.com",),
        "aws:securetransport": "true",
        "sns:endpoint": queue_arn["Attributes"]["QueueArn"],
        "sns:protocol": "sqs",
    }
    calls = cloudformations_calls(feed)
    assert len(calls) == 21
    for action, arn, policy in calls:
        matching = [
            statement.sid
            for statement in statements(policy, "Deny")
            if principal_matches(statement, deployer, LOG_ARCHIVE) and applies(statement, action, arn, lambda: context)
        ]
        assert matching == [], (action, arn)
    # The same call made directly, not through CloudFormation, is refused.
    direct = {key: value for key, value in context.items() if key != "aws:calledvia"} | {"aws:viaawsservice": "false"}
    _, arn, policy = next(call for call in calls if call[0] == "sqs:DeleteQueue")
    assert any(applies(s, "sqs:DeleteQueue", arn, lambda: direct) for s in statements(policy, "Deny"))


def test_cloudformation_updates_and_then_deletes_the_stack(feed: Feed) -> None:
    outputs = deploy.deploy({**feed.parameters, "AlarmEmail": "secops@example.com"})
    assert outputs["SqsUrl"] == feed.queue_url
    deploy.destroy()
    assert not deploy.exists()
    assert feed.topic_arn not in [t["TopicArn"] for t in clients.sns().list_topics()["Topics"]]
