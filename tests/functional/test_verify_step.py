"""Verify against moto: the subscription, the role's trust, and our entries after a write."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from expel_onboarding import notification, verify
from expel_onboarding.reports import Mode, Status
from tests.support.aws_calls import AwsCalls
from tests.support.landing_zone import EXPEL_PRINCIPAL as EXPEL
from tests.support.landing_zone import EXPEL_TRUST, EXTERNAL_ID
from tests.support.stubbed import stubbable_client

ACCOUNT = "123456789012"
BUCKET = f"aws-controltower-logs-{ACCOUNT}-us-east-1"


@pytest.fixture
def onboarded(calls: AwsCalls) -> dict[str, Any]:
    """What a successful apply leaves behind, built directly."""
    s3, sns, sqs, iam, kms = (boto3.client(name) for name in ("s3", "sns", "sqs", "iam", "kms"))
    s3.create_bucket(Bucket=BUCKET)
    topic = sns.create_topic(Name="expel-cloudtrail-objects")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="expel-cloudtrail-objects")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    role = iam.create_role(RoleName="ExpelTrailAssumeRole", AssumeRolePolicyDocument=json.dumps(EXPEL_TRUST))["Role"]
    entry_target = notification.Target(BUCKET, ACCOUNT, "ExpelOnboardingA1B2C3D4E5F6", topic)
    notification.converge(s3, entry_target, Mode.APPLY)
    target = verify.Target(
        subscription_arn=subscription,
        queue_arn=queue_arn,
        role_name="ExpelTrailAssumeRole",
        role_arn=role["Arn"],
        expel_principal_arn=EXPEL,
        external_id=EXTERNAL_ID,
        notification_key_arn=kms.create_key()["KeyMetadata"]["Arn"],
    )
    calls.clear()
    return {"s3": s3, "sns": sns, "iam": iam, "target": target, "entry": entry_target}


def run(onboarded: dict[str, Any], mode: Mode, **changes: Any) -> Any:
    target = verify.Target(**{**onboarded["target"].__dict__, **changes})
    return verify.verify(
        sns=onboarded["sns"],
        iam=onboarded["iam"],
        s3=onboarded["s3"],
        kms=None,
        target=target,
        notification_target=onboarded["entry"],
        key_target=None,
        mode=mode,
    )


def test_a_complete_onboarding_verifies(onboarded: dict[str, Any]) -> None:
    report = run(onboarded, Mode.APPLY)
    assert report.status is Status.OK, report.detail
    # moto has no policy simulator: verify says so rather than pretending it ran.
    assert report.data["PoliciesSimulated"] is False


def test_check_with_a_stack_made_role_leaves_stack_resources_to_cloudformation(
    onboarded: dict[str, Any], calls: AwsCalls
) -> None:
    report = run(onboarded, Mode.CHECK)
    assert report.status is Status.OK
    assert "CloudFormation drift detection" in report.detail
    assert calls.made == []


def test_check_with_the_stacksets_role_reads_only_the_role(onboarded: dict[str, Any], calls: AwsCalls) -> None:
    assert run(onboarded, Mode.CHECK, role_in_stack=False).status is Status.OK
    assert calls.made == ["iam:GetRole"]


def test_raw_delivery_turned_off_fails_verification_after_a_write(onboarded: dict[str, Any]) -> None:
    onboarded["sns"].set_subscription_attributes(
        SubscriptionArn=onboarded["target"].subscription_arn, AttributeName="RawMessageDelivery", AttributeValue="false"
    )
    report = run(onboarded, Mode.REPAIR)
    assert report.status is Status.FAILED
    assert "Raw message delivery is off" in report.detail


def test_a_role_trusting_another_external_id_fails_verification(onboarded: dict[str, Any]) -> None:
    report = run(onboarded, Mode.APPLY, external_id="00000000-0000-0000-0000-000000000000")
    assert report.status is Status.FAILED
    assert "does not trust" in report.detail


def test_a_missing_stackset_role_is_drift_that_names_both_ways_to_create_it(onboarded: dict[str, Any]) -> None:
    report = run(onboarded, Mode.CHECK, role_name="NoSuchRole", role_in_stack=False)
    assert report.status is Status.DRIFTED
    assert "CreateExpelRole=true" in report.detail


def test_after_a_write_a_missing_notification_entry_fails_verification(onboarded: dict[str, Any]) -> None:
    notification.converge(onboarded["s3"], onboarded["entry"], Mode.REMOVE)
    report = run(onboarded, Mode.REPAIR)
    assert report.status is Status.FAILED
    assert "notification entry is not on" in report.detail


def test_the_policy_simulator_names_each_denied_action() -> None:
    iam = stubbable_client("iam")
    target = verify.Target(
        subscription_arn="arn:aws:sns:us-east-1:1:t:s",
        queue_arn="arn:aws:sqs:us-east-1:1:q",
        role_name="ExpelTrailAssumeRole",
        role_arn="arn:aws:iam::1:role/ExpelTrailAssumeRole",
        expel_principal_arn=EXPEL,
        external_id=EXTERNAL_ID,
        notification_key_arn="arn:aws:kms:us-east-1:1:key/n",
    )
    ct_key = "arn:aws:kms:us-east-1:2:key/ct"
    results = [
        {"EvalActionName": "s3:GetObject", "EvalDecision": "allowed"},
        {"EvalActionName": "sqs:ReceiveMessage", "EvalDecision": "allowed"},
        {
            "EvalActionName": "kms:Decrypt",
            "EvalDecision": "implicitDeny",
            "ResourceSpecificResults": [{"EvalResourceName": ct_key, "EvalResourceDecision": "implicitDeny"}],
        },
    ]
    with Stubber(iam) as stub:
        stub.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": results},
            {"PolicySourceArn": target.role_arn, "ActionNames": ANY, "ResourceArns": ANY},
        )
        problems = verify.permission_problems(iam, target, BUCKET, ct_key)
    assert problems == [f"The Expel role may not kms:Decrypt on {ct_key} (implicitDeny)."]
