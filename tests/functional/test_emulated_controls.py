"""The local AWS enforces a landing zone's service control policies (localaws.controls), as AWS does:
landing zone 4.0's CT.S3.PV.8 and CT.SNS.PV.1 refuse what they deny, with AWS's explicit-deny error."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from expel_onboarding.errors import is_explicit_deny
from localaws import clients, landing_zone
from localaws.accounts import AUDIT, LOG_ARCHIVE, MANAGEMENT, REGION, as_account
from localaws.landing_zone import LandingZone

ROOT = f"arn:aws:iam::{LOG_ARCHIVE}:root"
SCP_ARN = rf"arn:aws:organizations::{MANAGEMENT}:policy/o-[a-z0-9]+/service_control_policy/p-[a-z0-9]+"
PREFERRED = {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
TAGS = {"TagSet": [{"Key": "team", "Value": "security"}]}


@pytest.fixture
def zone() -> LandingZone:
    return landing_zone.seed("4.0")


def refusal(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return raised.value


def s3_denial(principal: str, action: str, resource: str) -> str:
    return (
        rf'User: {re.escape(principal)} is not authorized to perform: {action} on resource: "{re.escape(resource)}" '
        rf"with an explicit deny in a service control policy: {SCP_ARN}"
    )


def assumed(role_name: str, session: str = "session") -> boto3.Session:
    """A session of a role in the Log Archive account, assumed by the account's own root (the caller)."""
    iam = clients.iam()
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    credentials = clients.sts().assume_role(RoleArn=role, RoleSessionName=session)["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def raw_subscription(zone: LandingZone) -> str:
    sqs, sns = clients.sqs(), clients.sns()
    queue_url = sqs.create_queue(QueueName="trail-relay")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(
        sns.subscribe(
            TopicArn=zone.trail_topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )["SubscriptionArn"]
    )


# -- CT.S3.PV.8 on the log bucket -----------------------------------------------------------------


def test_cts3pv8_refuses_a_notification_write_on_the_log_bucket_with_an_explicit_deny(zone: LandingZone) -> None:
    s3 = clients.s3()
    error = refusal(lambda: s3.put_bucket_notification_configuration(Bucket=zone.bucket, NotificationConfiguration={}))
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert re.fullmatch(
        s3_denial(ROOT, "s3:PutBucketNotification", f"arn:aws:s3:::{zone.bucket}"), error.response["Error"]["Message"]
    )
    assert is_explicit_deny(error)
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications


def test_cts3pv8_refuses_an_ownership_change_on_the_log_bucket(zone: LandingZone) -> None:
    s3 = clients.s3()
    error = refusal(lambda: s3.put_bucket_ownership_controls(Bucket=zone.bucket, OwnershipControls=PREFERRED))
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert "s3:PutBucketOwnershipControls" in error.response["Error"]["Message"]
    assert is_explicit_deny(error)
    rules = s3.get_bucket_ownership_controls(Bucket=zone.bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("s3:PutBucketOwnershipControls", lambda s3, bucket: s3.delete_bucket_ownership_controls(Bucket=bucket)),
        ("s3:PutBucketPolicy", lambda s3, bucket: s3.put_bucket_policy(Bucket=bucket, Policy='{"Statement": []}')),
        ("s3:DeleteBucketPolicy", lambda s3, bucket: s3.delete_bucket_policy(Bucket=bucket)),
        ("s3:PutBucketLogging", lambda s3, bucket: s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})),
        (
            "s3:PutEncryptionConfiguration",
            lambda s3, bucket: s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            ),
        ),
        (
            "s3:PutLifecycleConfiguration",
            lambda s3, bucket: s3.put_bucket_lifecycle_configuration(
                Bucket=bucket,
                LifecycleConfiguration={
                    "Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]
                },
            ),
        ),
        ("s3:DeleteBucket", lambda s3, bucket: s3.delete_bucket(Bucket=bucket)),
    ],
)
def test_cts3pv8_refuses_every_other_bucket_level_write(zone: LandingZone, action: str, call: Any) -> None:
    error = refusal(lambda: call(clients.s3(), zone.bucket))
    assert re.fullmatch(s3_denial(ROOT, action, f"arn:aws:s3:::{zone.bucket}"), error.response["Error"]["Message"])


def test_cts3pv8_lets_objects_be_written_and_the_bucket_be_read_and_tagged(zone: LandingZone) -> None:
    s3 = clients.s3()
    s3.put_object(Bucket=zone.bucket, Key="AWSLogs/probe.json.gz", Body=b"{}")
    s3.put_object_tagging(Bucket=zone.bucket, Key="AWSLogs/probe.json.gz", Tagging=TAGS)
    s3.put_bucket_tagging(Bucket=zone.bucket, Tagging=TAGS)
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert s3.get_object(Bucket=zone.bucket, Key="AWSLogs/probe.json.gz")["Body"].read() == b"{}"
    s3.delete_object(Bucket=zone.bucket, Key="AWSLogs/probe.json.gz")


def test_a_bucket_outside_control_towers_names_in_the_same_account_takes_both_writes(zone: LandingZone) -> None:
    s3 = clients.s3()
    s3.create_bucket(Bucket="team-reports")
    s3.put_bucket_notification_configuration(Bucket="team-reports", NotificationConfiguration={})
    s3.put_bucket_ownership_controls(Bucket="team-reports", OwnershipControls=PREFERRED)


def test_the_controls_bind_only_the_account_they_are_attached_to(zone: LandingZone) -> None:
    # Same name pattern, but in the Audit account, which has no CT.S3.PV.8 attached here.
    bucket = f"aws-controltower-logs-{AUDIT}-{REGION}"
    with as_account(AUDIT):
        s3 = clients.s3()
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=PREFERRED)


def test_a_3x_log_bucket_takes_both_writes() -> None:
    zone = landing_zone.seed("3")
    s3 = clients.s3()
    s3.put_bucket_notification_configuration(Bucket=zone.bucket, NotificationConfiguration=zone.foreign_notifications)  # type: ignore[arg-type]
    s3.put_bucket_ownership_controls(Bucket=zone.bucket, OwnershipControls=PREFERRED)


# -- CT.SNS.PV.1 on the trail's topic -------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "call"),
    [
        (
            "SNS:SetTopicAttributes",
            lambda sns, zone, _: sns.set_topic_attributes(
                TopicArn=zone.trail_topic_arn, AttributeName="DisplayName", AttributeValue="ours"
            ),
        ),
        (
            "SNS:AddPermission",
            lambda sns, zone, _: sns.add_permission(
                TopicArn=zone.trail_topic_arn, Label="ours", AWSAccountId=[AUDIT], ActionName=["Publish"]
            ),
        ),
        (
            "SNS:SetSubscriptionAttributes",
            lambda sns, _, subscription: sns.set_subscription_attributes(
                SubscriptionArn=subscription, AttributeName="RawMessageDelivery", AttributeValue="false"
            ),
        ),
    ],
)
def test_ctsnspv1_refuses_changes_to_the_trail_topic_and_its_subscriptions(
    zone: LandingZone, action: str, call: Any
) -> None:
    subscription = raw_subscription(zone)
    error = refusal(lambda: call(clients.sns(), zone, subscription))
    assert error.response["Error"]["Code"] == "AuthorizationError"
    resource = subscription if action == "SNS:SetSubscriptionAttributes" else zone.trail_topic_arn
    assert re.fullmatch(
        rf"User: {re.escape(ROOT)} is not authorized to perform: {action} on resource: {re.escape(resource)} "
        rf"with an explicit deny in a service control policy: {SCP_ARN}",
        error.response["Error"]["Message"],
    )


def test_ctsnspv1_lets_a_raw_subscription_be_made_used_and_removed(zone: LandingZone) -> None:
    sns = clients.sns()
    subscription = raw_subscription(zone)
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert sns.list_subscriptions_by_topic(TopicArn=zone.trail_topic_arn)["Subscriptions"]
    sns.get_topic_attributes(TopicArn=zone.trail_topic_arn)
    sns.publish(TopicArn=zone.trail_topic_arn, Message="{}")
    sns.unsubscribe(SubscriptionArn=subscription)


# -- who is exempt --------------------------------------------------------------------------------


def test_the_awscontroltowerexecution_role_is_exempt(zone: LandingZone) -> None:
    session = assumed("AWSControlTowerExecution")
    s3, sns = session.client("s3"), session.client("sns")
    s3.put_bucket_ownership_controls(Bucket=zone.bucket, OwnershipControls=PREFERRED)
    s3.put_bucket_notification_configuration(Bucket=zone.bucket, NotificationConfiguration={})
    sns.set_topic_attributes(TopicArn=zone.trail_topic_arn, AttributeName="DisplayName", AttributeValue="ct")
    assert landing_zone.notifications_of(zone.bucket) == {}


def test_any_other_role_is_refused_and_named_by_its_session(zone: LandingZone) -> None:
    s3 = assumed("ExpelOnboarding", session="notification-step").client("s3")
    error = refusal(lambda: s3.put_bucket_notification_configuration(Bucket=zone.bucket, NotificationConfiguration={}))
    caller = f"arn:aws:sts::{LOG_ARCHIVE}:assumed-role/ExpelOnboarding/notification-step"
    assert re.fullmatch(
        s3_denial(caller, "s3:PutBucketNotification", f"arn:aws:s3:::{zone.bucket}"), error.response["Error"]["Message"]
    )


# -- the emulation itself -------------------------------------------------------------------------


def test_an_scp_attached_to_an_ou_reaches_the_accounts_under_it(zone: LandingZone) -> None:
    deny_tagging = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:PutBucketTagging", "Resource": "*"}],
    }
    with as_account(MANAGEMENT):
        organizations = clients.organizations()
        root = organizations.list_roots()["Roots"][0]["Id"]
        unit = organizations.create_organizational_unit(ParentId=root, Name="Security")["OrganizationalUnit"]["Id"]
        organizations.move_account(AccountId=AUDIT, SourceParentId=root, DestinationParentId=unit)
        policy = organizations.create_policy(
            Name="no-tagging", Description="", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(deny_tagging)
        )["Policy"]["PolicySummary"]["Id"]
        organizations.attach_policy(PolicyId=policy, TargetId=unit)
    with as_account(AUDIT):
        s3 = clients.s3()
        s3.create_bucket(Bucket="audit-reports")
        error = refusal(lambda: s3.put_bucket_tagging(Bucket="audit-reports", Tagging=TAGS))
    assert "s3:PutBucketTagging" in error.response["Error"]["Message"]
    clients.s3().put_bucket_tagging(Bucket=zone.bucket, Tagging=TAGS)  # not under that OU
