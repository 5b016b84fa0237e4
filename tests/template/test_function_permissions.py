"""Each step function may do exactly what its step needs, on the resources it needs."""

from __future__ import annotations

from typing import Any

import pytest

from localaws import templates
from tests.support.cfn_template import ROOT, evaluate_conditions, resolve_conditions
from tests.template.contract import (
    FUNCTION_TYPES,
    LOG_WRITES,
    as_list,
    condition_combinations,
    log_scope_violations,
    own_log_group,
)

ALL_KNOWN = evaluate_conditions(
    templates.read(ROOT / "template.yaml"),
    {
        "CloudTrailKeyArn": "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "KeyPolicyDelegateArn": "arn:aws:lambda:us-east-1:111111111111:function:expel-org-KeyPolicyDelegate",
    },
)
EXPECTED_ACTIONS = {
    "DiscoverFunction": {
        "organizations:DescribeOrganization",
        "cloudtrail:DescribeTrails",
        "s3:GetBucketLocation",
        "s3:ListBucket",
        "s3:GetObject",
    },
    "OwnershipFunction": {"s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls"},
    "KeyPolicyFunction": {"lambda:InvokeFunction", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy"},
    "NotificationFunction": {
        "s3:GetBucketNotification",
        "s3:PutBucketNotification",
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:ListSubscriptionsByTopic",
        "sns:GetSubscriptionAttributes",
    },
    "RelayFunction": {"s3:GetObject", "s3:ListBucket", "sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"},
    "BridgeFunction": {"states:StartExecution", "states:DescribeExecution"},
    "VerifyFunction": {
        "s3:GetBucketNotification",
        "sns:GetSubscriptionAttributes",
        "iam:GetRole",
        "iam:SimulatePrincipalPolicy",
        "lambda:InvokeFunction",
        "kms:GetKeyPolicy",
    },
}
# These two APIs have no resource-level permissions, so "*" is the only valid Resource.
RESOURCELESS = {"organizations:DescribeOrganization", "cloudtrail:DescribeTrails"}


def function_statements(template: dict[str, Any], name: str, conditions: dict[str, bool]) -> list[dict[str, Any]]:
    """The function's own statements, without the Deny that holds its logs to its own group (tested below)."""
    resolved = resolve_conditions(template, conditions)
    return [
        s
        for policy in resolved["Resources"][name]["Properties"]["Policies"]
        for s in policy["Statement"]
        if s.get("Sid") != "WriteOnlyItsOwnLogGroup"
    ]


@pytest.mark.parametrize("function", EXPECTED_ACTIONS)
def test_function_is_granted_exactly_its_steps_actions(template: dict[str, Any], function: str) -> None:
    actions = {a for s in function_statements(template, function, ALL_KNOWN) for a in as_list(s["Action"])}
    assert actions == EXPECTED_ACTIONS[function]


@pytest.mark.parametrize("function", EXPECTED_ACTIONS)
def test_function_uses_resource_star_only_where_the_api_has_no_resources(
    template: dict[str, Any], function: str
) -> None:
    for statement in function_statements(template, function, ALL_KNOWN):
        if statement["Resource"] == "*":
            assert set(as_list(statement["Action"])) <= RESOURCELESS, statement["Sid"]


def test_key_policy_function_cannot_touch_any_key_when_none_is_given(template: dict[str, Any]) -> None:
    nothing_given = evaluate_conditions(template, {"CloudTrailKeyArn": "", "KeyPolicyDelegateArn": ""})
    (only,) = function_statements(template, "KeyPolicyFunction", nothing_given)
    assert only["Effect"] == "Deny"


def test_every_function_policy_has_a_statement_whatever_the_parameters(template: dict[str, Any]) -> None:
    # IAM refuses an empty policy, so some parameter combination would otherwise fail the deploy.
    for conditions in condition_combinations(template):
        for function in EXPECTED_ACTIONS:
            assert function_statements(template, function, conditions), (function, conditions)


def test_a_grant_on_every_bucket_is_held_to_this_accounts_buckets(template: dict[str, Any]) -> None:
    # Removal after a LogBucketName change acts on a bucket the template no longer names.
    for function in ("DiscoverFunction", "NotificationFunction"):
        for statement in function_statements(template, function, ALL_KNOWN):
            if statement["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}:
                assert statement["Condition"] == {"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}}


def test_every_function_writes_only_to_its_own_log_group(template: dict[str, Any]) -> None:
    functions = [n for n, r in template["Resources"].items() if r["Type"] in FUNCTION_TYPES]
    assert set(functions) == {*EXPECTED_ACTIONS, "OutputsFunction", "LocateFunction"}
    assert log_scope_violations(template) == []


@pytest.mark.parametrize("function", [*EXPECTED_ACTIONS, "OutputsFunction"])
def test_sams_log_grant_on_every_group_is_denied_outside_the_functions_own(
    template: dict[str, Any], function: str
) -> None:
    props = template["Resources"][function]["Properties"]
    group = props["LoggingConfig"]["LogGroup"]["Ref"]
    (deny,) = [s for p in props["Policies"] for s in p["Statement"] if s.get("Sid") == "WriteOnlyItsOwnLogGroup"]
    assert deny == {
        "Sid": "WriteOnlyItsOwnLogGroup",
        "Effect": "Deny",
        "Action": sorted(LOG_WRITES),
        "NotResource": own_log_group(group),
    }
    assert template["Resources"][group]["Properties"]["LogGroupName"]["Fn::Sub"].startswith(
        "/aws/lambda/${AWS::StackName}-"
    )
