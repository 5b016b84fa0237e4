"""Verify's questions to IAM's policy simulator, which moto does not emulate, proven with botocore's Stubber.

The Stubber matches each request exactly, so these tests pin the calls themselves: the actions, the
resource ARNs, and the kms:ViaService context each Decrypt really carries (without it, the role's
conditioned Decrypt grants come back implicitDeny in real AWS).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from expel_onboarding import notification, verify
from expel_onboarding.errors import NotSimulated
from expel_onboarding.reports import Mode, Status
from localaws import clients
from localaws.landing_zone import EXPEL_PRINCIPAL, EXTERNAL_ID
from localaws.stack_resources import EXPEL_TRUST
from tests.support.stubbed import stubbable_client

LOG_ARCHIVE, MANAGEMENT = "222222222222", "111111111111"
BUCKET = f"aws-controltower-logs-{LOG_ARCHIVE}-us-east-1"
ROLE_ARN = f"arn:aws:iam::{LOG_ARCHIVE}:role/ExpelTrailAssumeRole"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{LOG_ARCHIVE}:expel-cloudtrail-objects"
NOTIFICATION_KEY = f"arn:aws:kms:us-east-1:{LOG_ARCHIVE}:key/notification"
CLOUDTRAIL_KEY = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/cloudtrail"
LOG_OBJECT = f"arn:aws:s3:::{BUCKET}/AWSLogs/"
TARGET = verify.Target(
    subscription_arn=f"arn:aws:sns:us-east-1:{LOG_ARCHIVE}:expel-cloudtrail-objects:1",
    queue_arn=QUEUE_ARN,
    role_name="ExpelTrailAssumeRole",
    role_arn=ROLE_ARN,
    expel_principal_arn=EXPEL_PRINCIPAL,
    external_id=EXTERNAL_ID,
    notification_key_arn=NOTIFICATION_KEY,
)


def via(service: str) -> list[dict[str, Any]]:
    return [{"ContextKeyName": "kms:ViaService", "ContextKeyValues": [service], "ContextKeyType": "string"}]


# What Workbench does, as three requests to the simulator: its reads carry no kms:ViaService, and each
# Decrypt carries the service that makes it for the role.
READS = {
    "PolicySourceArn": ROLE_ARN,
    "ActionNames": ["s3:GetObject", "sqs:ReceiveMessage"],
    "ResourceArns": [LOG_OBJECT, QUEUE_ARN],
}
DECRYPT_VIA_SQS = {
    "PolicySourceArn": ROLE_ARN,
    "ActionNames": ["kms:Decrypt"],
    "ResourceArns": [NOTIFICATION_KEY],
    "ContextEntries": via("sqs.us-east-1.amazonaws.com"),
}
DECRYPT_VIA_S3 = {
    "PolicySourceArn": ROLE_ARN,
    "ActionNames": ["kms:Decrypt"],
    "ResourceArns": [CLOUDTRAIL_KEY],
    # The key's account, as S3's request to KMS carries it: the grant for a key found at run time tests it.
    "ContextEntries": [
        *via("s3.us-east-1.amazonaws.com"),
        {
            "ContextKeyName": "aws:ResourceAccount",
            "ContextKeyValues": [CLOUDTRAIL_KEY.split(":")[4]],
            "ContextKeyType": "string",
        },
    ],
}


def answer(
    request: dict[str, Any], decisions: dict[tuple[str, str], str] | None = None, **extra: Any
) -> dict[str, Any]:
    """The simulator's answer to request: one result per action, one resource-specific result per
    resource; every pair allowed unless decisions says otherwise."""
    decisions = decisions or {}
    results = []
    for action in request["ActionNames"]:
        specific = [
            {"EvalResourceName": arn, "EvalResourceDecision": decisions.get((action, arn), "allowed"), **extra}
            for arn in request["ResourceArns"]
        ]
        worst = "allowed" if all(s["EvalResourceDecision"] == "allowed" for s in specific) else "implicitDeny"
        results.append(
            {
                "EvalActionName": action,
                "EvalResourceName": "*",
                "EvalDecision": worst,
                "ResourceSpecificResults": specific,
            }
        )
    return {"EvaluationResults": results, "IsTruncated": False}


def simulate(stub: Stubber, request: dict[str, Any], response: dict[str, Any] | None = None) -> None:
    stub.add_response("simulate_principal_policy", response or answer(request), request)


@pytest.fixture
def iam() -> Any:
    return stubbable_client("iam")


def test_verify_asks_the_simulator_three_times_with_the_context_each_request_carries(iam: Any) -> None:
    with Stubber(iam) as stub:
        simulate(stub, READS)
        simulate(stub, DECRYPT_VIA_SQS)
        simulate(stub, DECRYPT_VIA_S3)
        problems = verify.permission_problems(iam, TARGET, BUCKET, CLOUDTRAIL_KEY)
        stub.assert_no_pending_responses()
    assert problems == []


def test_with_sse_s3_logs_there_is_no_cloudtrail_key_to_ask_about(iam: Any) -> None:
    with Stubber(iam) as stub:
        simulate(stub, READS)
        simulate(stub, DECRYPT_VIA_SQS)
        assert verify.permission_problems(iam, TARGET, BUCKET, "") == []
        stub.assert_no_pending_responses()


def test_the_log_object_simulated_is_under_the_folder_the_trail_writes_its_log_files_in() -> None:
    root = "o-a1b2c3d4e5/AWSLogs/o-a1b2c3d4e5/"
    reads, *_ = verify.simulations(verify.Target(**{**TARGET.__dict__, "log_root": root}), BUCKET, CLOUDTRAIL_KEY)
    assert reads.requests[0] == ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/{root}")


def test_the_resource_arns_and_services_follow_the_stacks_partition_and_region() -> None:
    in_govcloud = verify.Target(
        **{
            **TARGET.__dict__,
            "role_arn": f"arn:aws-us-gov:iam::{LOG_ARCHIVE}:role/ExpelTrailAssumeRole",
            "queue_arn": f"arn:aws-us-gov:sqs:us-gov-west-1:{LOG_ARCHIVE}:q",
        }
    )
    reads, via_sqs, via_s3 = verify.simulations(in_govcloud, BUCKET, CLOUDTRAIL_KEY)
    assert reads.requests[0] == ("s3:GetObject", f"arn:aws-us-gov:s3:::{BUCKET}/AWSLogs/")
    assert (via_sqs.via_service, via_s3.via_service) == (
        "sqs.us-gov-west-1.amazonaws.com",
        "s3.us-gov-west-1.amazonaws.com",
    )


def test_an_implicit_deny_of_the_decrypt_through_s3_is_reported_with_its_context(iam: Any) -> None:
    denied = answer(DECRYPT_VIA_S3, {("kms:Decrypt", CLOUDTRAIL_KEY): "implicitDeny"})
    with Stubber(iam) as stub:
        simulate(stub, READS)
        simulate(stub, DECRYPT_VIA_SQS)
        simulate(stub, DECRYPT_VIA_S3, denied)
        problems = verify.permission_problems(iam, TARGET, BUCKET, CLOUDTRAIL_KEY)
    assert problems == [
        f"The Expel role may not kms:Decrypt on {CLOUDTRAIL_KEY} through s3.us-east-1.amazonaws.com (implicitDeny)."
    ]


def test_a_decision_is_read_per_resource_not_from_the_calls_most_restrictive_one(iam: Any) -> None:
    # One result per action, whose top-level decision is the worst over the call's resources: GetObject
    # is denied on the queue (a pair no one asks about), and that must not count against it.
    cross_pairs = {("s3:GetObject", QUEUE_ARN): "implicitDeny", ("sqs:ReceiveMessage", LOG_OBJECT): "implicitDeny"}
    with Stubber(iam) as stub:
        simulate(stub, READS, answer(READS, cross_pairs))
        simulate(stub, DECRYPT_VIA_SQS)
        assert verify.permission_problems(iam, TARGET, BUCKET, "") == []


def test_the_context_keys_the_simulator_lacked_are_named(iam: Any) -> None:
    denied = answer(READS, {("s3:GetObject", LOG_OBJECT): "implicitDeny"}, MissingContextValues=["aws:SourceVpce"])
    with Stubber(iam) as stub:
        simulate(stub, READS, denied)
        simulate(stub, DECRYPT_VIA_SQS)
        (problem,) = verify.permission_problems(iam, TARGET, BUCKET, "") or [""]
    assert problem.startswith(f"The Expel role may not s3:GetObject on {LOG_OBJECT} (implicitDeny;")
    assert "aws:SourceVpce, which Verify does not supply" in problem


def test_across_accounts_the_roles_own_allow_counts_and_the_key_policy_is_left_to_its_reading(iam: Any) -> None:
    # The simulator cannot read a KMS key policy; per policy type, the role's identity policy allows.
    details = {"EvalDecisionDetails": {"IAM Policy": "allowed", "Resource Policy": "implicitDeny"}}
    cross_account = answer(DECRYPT_VIA_S3, {("kms:Decrypt", CLOUDTRAIL_KEY): "implicitDeny"}, **details)
    with Stubber(iam) as stub:
        simulate(stub, READS)
        simulate(stub, DECRYPT_VIA_SQS)
        simulate(stub, DECRYPT_VIA_S3, cross_account)
        assert verify.permission_problems(iam, TARGET, BUCKET, CLOUDTRAIL_KEY) == []


def test_an_explicit_deny_across_accounts_is_still_reported(iam: Any) -> None:
    details = {"EvalDecisionDetails": {"IAM Policy": "allowed", "Organizations SCP": "explicitDeny"}}
    denied = answer(DECRYPT_VIA_S3, {("kms:Decrypt", CLOUDTRAIL_KEY): "explicitDeny"}, **details)
    with Stubber(iam) as stub:
        simulate(stub, READS)
        simulate(stub, DECRYPT_VIA_SQS)
        simulate(stub, DECRYPT_VIA_S3, denied)
        problems = verify.permission_problems(iam, TARGET, BUCKET, CLOUDTRAIL_KEY)
    assert problems == [
        f"The Expel role may not kms:Decrypt on {CLOUDTRAIL_KEY} through s3.us-east-1.amazonaws.com (explicitDeny)."
    ]


def test_without_the_simulators_answer_verify_asks_only_once_and_keeps_the_reason(iam: Any) -> None:
    with Stubber(iam) as stub:
        stub.add_client_error(
            "simulate_principal_policy", "AccessDenied", "explicit deny in a service control policy", 403
        )
        with pytest.raises(NotSimulated, match="explicit deny in a service control policy"):
            verify.permission_problems(iam, TARGET, BUCKET, CLOUDTRAIL_KEY)
        stub.assert_no_pending_responses()


# --- The whole step: moto for the subscription and the bucket, the Stubber for IAM ---------------------


@pytest.fixture
def onboarded() -> dict[str, Any]:
    """A raw-delivery subscription and our bucket entry, as an apply leaves them (in moto)."""
    s3, sns, sqs = clients.s3(), clients.sns(), clients.sqs()
    s3.create_bucket(Bucket=BUCKET)
    topic = sns.create_topic(Name="expel-cloudtrail-objects")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="expel-cloudtrail-objects")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    entry = notification.Target(BUCKET, LOG_ARCHIVE, "ExpelOnboardingA1B2C3D4E5F6", topic)
    notification.converge(s3, entry, Mode.APPLY)
    target = verify.Target(**{**TARGET.__dict__, "subscription_arn": subscription, "queue_arn": queue_arn})
    return {"s3": s3, "sns": sns, "target": target, "entry": entry}


def run_apply(onboarded: dict[str, Any], iam: Any) -> Any:
    return verify.verify(
        sns=onboarded["sns"],
        iam=iam,
        s3=onboarded["s3"],
        check_key=None,
        target=onboarded["target"],
        notification_target=onboarded["entry"],
        key_target=None,
        mode=Mode.APPLY,
    )


def stub_reads_and_role(stub: Stubber, target: verify.Target) -> tuple[dict[str, Any], dict[str, Any]]:
    role = {
        "Path": "/",
        "RoleName": target.role_name,
        "RoleId": "AROAEXAMPLEEXAMPLE01",
        "Arn": target.role_arn,
        "CreateDate": "2026-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": json.dumps(EXPEL_TRUST),
    }
    stub.add_response("get_role", {"Role": role}, {"RoleName": target.role_name})
    reads = {**READS, "ResourceArns": [LOG_OBJECT, target.queue_arn]}
    return reads, DECRYPT_VIA_SQS


def test_after_an_apply_allowed_decisions_verify_ok_and_say_the_simulator_ran(
    onboarded: dict[str, Any], iam: Any
) -> None:
    with Stubber(iam) as stub:
        reads, via_sqs = stub_reads_and_role(stub, onboarded["target"])
        simulate(stub, reads)
        simulate(stub, via_sqs)
        report = run_apply(onboarded, iam)
    assert report.status is Status.OK, report.detail
    assert report.data["PoliciesSimulated"] is True
    assert "IAM's policy simulator allows the role's reads" in report.detail


def test_after_an_apply_a_denied_read_is_action_required_naming_it(onboarded: dict[str, Any], iam: Any) -> None:
    with Stubber(iam) as stub:
        reads, via_sqs = stub_reads_and_role(stub, onboarded["target"])
        simulate(stub, reads)
        simulate(stub, via_sqs, answer(via_sqs, {("kms:Decrypt", NOTIFICATION_KEY): "implicitDeny"}))
        report = run_apply(onboarded, iam)
    assert report.status is Status.ACTION_REQUIRED
    assert f"may not kms:Decrypt on {NOTIFICATION_KEY} through sqs.us-east-1.amazonaws.com" in report.detail
    assert report.data["PoliciesSimulated"] is True


def test_verify_never_says_ok_when_the_simulator_could_not_answer(onboarded: dict[str, Any], iam: Any) -> None:
    with Stubber(iam) as stub:
        stub_reads_and_role(stub, onboarded["target"])
        stub.add_client_error("simulate_principal_policy", "AccessDenied", "not authorized", 403)
        report = run_apply(onboarded, iam)
    assert report.status is Status.ACTION_REQUIRED
    assert report.data["PoliciesSimulated"] is False
    assert "Workbench's access was not confirmed: IAM's policy simulator did not answer (not authorized)" in (
        report.detail
    )
    assert "iam:SimulatePrincipalPolicy" in report.detail
