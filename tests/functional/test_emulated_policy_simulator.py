"""The local AWS's IAM policy simulator (localaws.policy_simulator), which moto lacks: SimulatePrincipalPolicy
answered from the role's own policies and boundary, as IAM's API reference describes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localaws import clients

ACCOUNT = "123456789012"
BUCKET_OBJECT = "arn:aws:s3:::logs/o-1/AWSLogs/o-1/"
OTHER_ACCOUNTS_KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "*"}]}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def role() -> str:
    iam = clients.iam()
    arn = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    grants = policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/secret/*"},
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "arn:aws:kms:us-east-1:*:key/*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        },
    )
    iam.put_role_policy(RoleName="reader", PolicyName="grants", PolicyDocument=grants)
    return str(arn)


def simulate(role: str, action: str, resource: str, **context: str) -> dict[str, Any]:
    entries = [{"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in context.items()]
    answer = clients.iam().simulate_principal_policy(
        PolicySourceArn=role, ActionNames=[action], ResourceArns=[resource], ContextEntries=entries
    )
    (result,) = answer["EvaluationResults"]
    return dict(result)


def test_an_allow_that_applies_is_allowed(role: str) -> None:
    result = simulate(role, "s3:GetObject", BUCKET_OBJECT)
    assert result["EvalDecision"] == "allowed"
    assert result["ResourceSpecificResults"][0]["EvalResourceName"] == BUCKET_OBJECT


def test_a_deny_that_applies_wins(role: str) -> None:
    assert simulate(role, "s3:GetObject", "arn:aws:s3:::logs/secret/x")["EvalDecision"] == "explicitDeny"


def test_nothing_granted_is_an_implicit_deny(role: str) -> None:
    assert simulate(role, "sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:q")["EvalDecision"] == (
        "implicitDeny"
    )


def test_a_condition_key_not_supplied_is_named_and_its_allow_does_not_apply(role: str) -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    result = simulate(role, "kms:Decrypt", key)
    assert result["EvalDecision"] == "implicitDeny"
    assert result["ResourceSpecificResults"][0]["MissingContextValues"] == ["kms:ViaService"]
    assert simulate(role, "kms:Decrypt", key, **{"kms:ViaService": "s3.us-east-1.amazonaws.com"})["EvalDecision"] == (
        "allowed"
    )


def test_another_accounts_resource_needs_its_own_policy_too(role: str) -> None:
    result = simulate(role, "kms:Decrypt", OTHER_ACCOUNTS_KEY, **{"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    specific = result["ResourceSpecificResults"][0]
    assert specific["EvalResourceDecision"] == "implicitDeny"
    assert specific["EvalDecisionDetails"] == {"IAM Policy": "allowed"}


def test_the_permissions_boundary_limits_what_the_role_s_policies_allow(role: str) -> None:
    iam = clients.iam()
    boundary = iam.create_policy(
        PolicyName="boundary",
        PolicyDocument=policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
    )["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="reader", PermissionsBoundary=boundary)
    assert simulate(role, "s3:GetObject", BUCKET_OBJECT)["EvalDecision"] == "implicitDeny"
