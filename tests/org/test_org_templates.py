"""The management-account template and the member role its StackSet deploys."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.cfn_template import ROOT, load_template, resolve_conditions
from tests.template.contract import seed_read_only_permissions

MANAGEMENT = load_template(ROOT / "org" / "management.yaml")
MEMBER = load_template(ROOT / "org" / "member-role.yaml")
LOG_ARCHIVE = load_template(ROOT / "template.yaml")


def read_only_statement(role: dict[str, Any]) -> dict[str, Any]:
    (policy,) = role["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    return statement


@pytest.mark.parametrize("template", [MANAGEMENT, MEMBER], ids=["management", "member"])
def test_the_expel_role_has_the_seeds_read_only_permissions_and_no_s3_access(template: dict[str, Any]) -> None:
    statement = read_only_statement(template["Resources"]["ExpelRole"])
    assert set(statement["Action"]) == seed_read_only_permissions()
    assert "s3:GetObject" not in statement["Action"]


@pytest.mark.parametrize("template", [MANAGEMENT, MEMBER], ids=["management", "member"])
def test_the_expel_role_trusts_expel_with_the_workbench_external_id(template: dict[str, Any]) -> None:
    (trust,) = template["Resources"]["ExpelRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "ExpelPrincipalArn"}}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "WorkbenchExternalId"}}}


def test_the_stackset_deploys_the_member_role_file_exactly() -> None:
    body = MANAGEMENT["Resources"]["ExpelRoleStackSet"]["Properties"]["TemplateBody"]
    assert body == (ROOT / "org" / "member-role.yaml").read_text(encoding="utf-8"), "run make org"
    assert yaml.safe_load(body.replace("!Ref", "").replace("!GetAtt", ""))["Resources"]["ExpelRole"]


def test_the_stackset_is_service_managed_with_auto_deployment() -> None:
    stack_set = MANAGEMENT["Resources"]["ExpelRoleStackSet"]["Properties"]
    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
    assert stack_set["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert stack_set["OperationPreferences"] == {
        "MaxConcurrentPercentage": {"Ref": "MaxConcurrentPercentage"},
        "FailureTolerancePercentage": {"Ref": "FailureTolerancePercentage"},
        "RegionConcurrencyType": {"Ref": "RegionConcurrencyType"},
    }
    passed = {p["ParameterKey"] for p in stack_set["Parameters"]}
    assert passed == set(MEMBER["Parameters"])


@pytest.mark.parametrize(
    ("ou_ids", "targets"),
    [("", [{"Ref": "OrganizationRootId"}]), ("ou-ab12-cdef3456", {"Ref": "TargetOuIds"})],
    ids=["root-by-default", "ous-when-given"],
)
def test_the_stackset_targets_the_root_or_the_given_ous(ou_ids: str, targets: Any) -> None:
    conditions = {"TargetRoot": ou_ids == ""}
    resolved = resolve_conditions(MANAGEMENT, conditions)
    (group,) = resolved["Resources"]["ExpelRoleStackSet"]["Properties"]["StackInstancesGroup"]
    assert group["DeploymentTargets"]["OrganizationalUnitIds"] == targets


def test_the_key_policy_role_is_trusted_only_by_the_log_archive_onboarding_functions() -> None:
    (trust,) = MANAGEMENT["Resources"]["KeyPolicyRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${LogArchiveAccountId}:root"}}
    pattern = trust["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"]
    path = pattern.split(":role", 1)[1].removesuffix("*")
    for function in ("KeyPolicyFunction", "VerifyFunction"):
        assert LOG_ARCHIVE["Resources"][function]["Properties"]["RolePath"] == path
    others = [
        name
        for name, resource in LOG_ARCHIVE["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function" and resource["Properties"].get("RolePath") == path
    ]
    assert sorted(others) == ["KeyPolicyFunction", "VerifyFunction"]


def test_the_key_policy_role_may_touch_only_the_one_key() -> None:
    (policy,) = MANAGEMENT["Resources"]["KeyPolicyRole"]["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy"]
    assert statement["Resource"] == {"Ref": "CloudTrailKeyArn"}


def test_the_outputs_are_what_the_log_archive_deploy_needs() -> None:
    assert MANAGEMENT["Outputs"]["KeyPolicyRoleArn"]["Value"] == {"Fn::GetAtt": ["KeyPolicyRole", "Arn"]}
    assert MANAGEMENT["Outputs"]["ExpelRoleName"]["Value"] == {"Ref": "ExpelRoleName"}


def test_both_stacks_default_to_the_same_role_name() -> None:
    names = {t["Parameters"]["ExpelRoleName"]["Default"] for t in (MANAGEMENT, MEMBER, LOG_ARCHIVE)}
    assert names == {"ExpelTrailAssumeRole"}
