"""Verify against moto: the subscription, the role's trust, our entry and key statement after a write.

A problem after a write is ACTION_REQUIRED (Verify writes nothing: a person must act); in a check, DRIFTED.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from expel_onboarding import key_policy, notification, verify
from expel_onboarding.reports import Mode, Status
from localaws import clients, stack_resources
from localaws.aws_calls import AwsCalls
from localaws.landing_zone import EXPEL_PRINCIPAL as EXPEL
from localaws.landing_zone import EXTERNAL_ID
from localaws.stack_resources import EXPEL_TRUST
from tests.support import key_policy_document
from tests.support.stubbed import explicit_deny, stubbable_client

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = f"aws-controltower-logs-{ACCOUNT}-{REGION}"
OTHER_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def onboarded(calls: AwsCalls) -> dict[str, Any]:
    """What a successful apply leaves behind, built directly."""
    s3, sns, sqs, iam, kms = clients.s3(), clients.sns(), clients.sqs(), clients.iam(), clients.kms()
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
    notification_key = kms.create_key()["KeyMetadata"]["Arn"]
    target = verify.Target(
        subscription_arn=subscription,
        queue_arn=queue_arn,
        role_name="ExpelTrailAssumeRole",
        role_arn=role["Arn"],
        expel_principal_arn=EXPEL,
        external_id=EXTERNAL_ID,
        notification_key_arn=notification_key,
    )
    # The CloudTrail key in this account, with our statement in its policy, as the KeyPolicy step leaves it.
    key = key_policy.Target(kms.create_key()["KeyMetadata"]["Arn"], entry_target.entry_id, ACCOUNT, role["Arn"], REGION)
    key_policy.converge(kms, key, Mode.APPLY)
    # The role's grants, as template.yaml's ExpelPolicy gives them (the local AWS simulates them for Verify).
    document = stack_resources.expel_data_access(BUCKET, queue_arn, notification_key, ACCOUNT)
    iam.put_role_policy(
        RoleName="ExpelTrailAssumeRole", PolicyName=stack_resources.EXPEL_POLICY, PolicyDocument=json.dumps(document)
    )
    calls.clear()
    return {"s3": s3, "sns": sns, "iam": iam, "kms": kms, "target": target, "entry": entry_target, "key": key}


def run(
    onboarded: dict[str, Any],
    mode: Mode,
    *,
    kms: Any = None,
    key_target: key_policy.Target | None = None,
    bucket_entry_expected: bool = True,
    **changes: Any,
) -> Any:
    target = verify.Target(**{**onboarded["target"].__dict__, **changes})
    return verify.verify(
        sns=onboarded["sns"],
        iam=onboarded["iam"],
        s3=onboarded["s3"],
        # The key check as the handler builds it for a key it can reach: the step's read-only converge.
        check_key=(lambda: key_policy.converge(kms, key_target, Mode.CHECK))
        if kms is not None and key_target
        else None,
        target=target,
        notification_target=onboarded["entry"],
        key_target=key_target,
        mode=mode,
        bucket_entry_expected=bucket_entry_expected,
    )


def trust_with_external_ids(iam: Any, external_ids: list[str]) -> None:
    statement = {**EXPEL_TRUST["Statement"][0], "Condition": {"StringEquals": {"sts:ExternalId": external_ids}}}
    document = {**EXPEL_TRUST, "Statement": [statement]}
    iam.update_assume_role_policy(RoleName="ExpelTrailAssumeRole", PolicyDocument=json.dumps(document))


def test_a_complete_onboarding_verifies(onboarded: dict[str, Any]) -> None:
    report = run(onboarded, Mode.APPLY)
    assert report.status is Status.OK, report.detail
    # The local AWS's policy simulator answered from the role's own policies.
    assert report.data["PoliciesSimulated"] is True
    assert "IAM's policy simulator allows the role's reads" in report.detail


def test_without_the_role_s_grants_verify_names_each_read_the_simulator_refuses(onboarded: dict[str, Any]) -> None:
    onboarded["iam"].delete_role_policy(RoleName="ExpelTrailAssumeRole", PolicyName=stack_resources.EXPEL_POLICY)
    report = run(onboarded, Mode.APPLY)
    assert report.status is Status.ACTION_REQUIRED
    assert "The Expel role may not s3:GetObject" in report.detail
    assert "The Expel role may not sqs:ReceiveMessage" in report.detail


def test_check_with_a_stack_made_role_leaves_stack_resources_to_cloudformation(
    onboarded: dict[str, Any], calls: AwsCalls
) -> None:
    report = run(onboarded, Mode.CHECK)
    assert report.status is Status.OK
    assert "CloudFormation drift detection" in report.detail
    # Only the simulator, which a stack resource cannot answer: Workbench's reads, with their contexts.
    assert set(calls.made) == {"iam:SimulatePrincipalPolicy"}
    assert "IAM's policy simulator allows the role's reads" in report.detail


def test_check_with_the_stacksets_role_reads_only_the_role(onboarded: dict[str, Any], calls: AwsCalls) -> None:
    assert run(onboarded, Mode.CHECK, role_in_stack=False).status is Status.OK
    assert calls.made[0] == "iam:GetRole"
    assert set(calls.made[1:]) == {"iam:SimulatePrincipalPolicy"}


def test_raw_delivery_turned_off_after_a_write_is_action_required(onboarded: dict[str, Any]) -> None:
    onboarded["sns"].set_subscription_attributes(
        SubscriptionArn=onboarded["target"].subscription_arn, AttributeName="RawMessageDelivery", AttributeValue="false"
    )
    report = run(onboarded, Mode.REPAIR)
    assert report.status is Status.ACTION_REQUIRED
    assert "Raw message delivery is off" in report.detail


def test_a_role_trusting_another_external_id_is_action_required(onboarded: dict[str, Any]) -> None:
    report = run(onboarded, Mode.APPLY, external_id=OTHER_ID)
    assert report.status is Status.ACTION_REQUIRED
    assert "does not trust" in report.detail


def test_a_missing_stackset_role_is_drift_that_names_both_ways_to_create_it(onboarded: dict[str, Any]) -> None:
    report = run(onboarded, Mode.CHECK, role_name="NoSuchRole", role_in_stack=False)
    assert report.status is Status.DRIFTED
    assert "CreateExpelRole=true" in report.detail


def test_after_a_write_a_missing_notification_entry_is_action_required(onboarded: dict[str, Any]) -> None:
    notification.converge(onboarded["s3"], onboarded["entry"], Mode.REMOVE)
    report = run(onboarded, Mode.REPAIR)
    assert report.status is Status.ACTION_REQUIRED
    assert "notification entry is not on" in report.detail


def test_a_trust_whose_external_id_list_holds_ours_verifies(onboarded: dict[str, Any]) -> None:
    trust_with_external_ids(onboarded["iam"], [OTHER_ID, EXTERNAL_ID])
    report = run(onboarded, Mode.APPLY)
    assert report.status is Status.OK, report.detail


def test_a_trust_whose_external_id_list_lacks_ours_is_action_required(onboarded: dict[str, Any]) -> None:
    trust_with_external_ids(onboarded["iam"], [OTHER_ID])
    report = run(onboarded, Mode.APPLY)
    assert report.status is Status.ACTION_REQUIRED
    assert f"with external id {EXTERNAL_ID}" in report.detail


def test_after_a_write_our_statement_is_read_back_from_the_key_policy(onboarded: dict[str, Any]) -> None:
    report = run(onboarded, Mode.APPLY, kms=onboarded["kms"], key_target=onboarded["key"])
    assert report.status is Status.OK, report.detail
    assert f"Our statement is in the policy of {onboarded['key'].key_arn}." in report.detail


def test_in_trail_topic_mode_the_key_statement_is_still_read_back(onboarded: dict[str, Any]) -> None:
    key: key_policy.Target = onboarded["key"]
    removed = key_policy_document.remove(key_policy_document.read(onboarded["kms"], key), key.sid)
    onboarded["kms"].put_key_policy(KeyId=key.key_arn, PolicyName="default", Policy=json.dumps(removed))
    report = run(onboarded, Mode.REPAIR, kms=onboarded["kms"], key_target=key, bucket_entry_expected=False)
    assert report.status is Status.ACTION_REQUIRED
    assert f"Our statement is not in the policy of {key.key_arn}" in report.detail


ACCESS_DENIED = {
    "service_error_code": "AccessDeniedException",
    "service_message": "User: arn:aws:sts::123456789012:assumed-role/verify/fn is not authorized to perform: "
    "kms:GetKeyPolicy on resource: key because no identity-based policy allows the kms:GetKeyPolicy action",
    "http_status_code": 400,
}
# The key policy allows neither our role nor (delegating to IAM) the account root.
KEY_POLICY_REFUSES = {
    **ACCESS_DENIED,
    "service_message": "User: arn:aws:sts::123456789012:assumed-role/verify/fn is not authorized to perform: "
    "kms:GetKeyPolicy on resource: key because no resource-based policy allows the kms:GetKeyPolicy action",
}
NOT_FOUND = {"service_error_code": "NotFoundException", "service_message": "no such key", "http_status_code": 400}


@pytest.mark.parametrize(
    ("error", "translated"),
    [
        (ACCESS_DENIED, "was refused"),
        (explicit_deny("kms:GetKeyPolicy", "key"), "blocked by an explicit deny"),
        (NOT_FOUND, "does not exist"),
        (KEY_POLICY_REFUSES, "neither directly nor through its account's root"),
    ],
    ids=["AccessNotGranted", "ExplicitDeny", "KeyNotUsable", "KeyPolicyNotDelegated"],
)
def test_an_unreadable_key_policy_is_action_required_not_a_crash(
    onboarded: dict[str, Any], error: dict[str, Any], translated: str
) -> None:
    key: key_policy.Target = onboarded["key"]
    kms = stubbable_client("kms")
    with Stubber(kms) as stub:
        stub.add_client_error(
            "get_key_policy", expected_params={"KeyId": key.key_arn, "PolicyName": "default"}, **error
        )
        report = run(onboarded, Mode.APPLY, kms=kms, key_target=key)
    assert report.status is Status.ACTION_REQUIRED
    assert f"Our statement in the policy of {key.key_arn} cannot be checked:" in report.detail
    assert translated in report.detail


def test_without_a_key_policy_delegate_the_statement_is_unconfirmed_and_says_how_to_confirm_it(
    onboarded: dict[str, Any],
) -> None:
    report = run(onboarded, Mode.APPLY, key_target=onboarded["key"])
    assert report.status is Status.ACTION_REQUIRED
    assert "Set KeyPolicyDelegateArn" in report.detail
