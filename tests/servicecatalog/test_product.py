"""The Service Catalog product: template.yaml expanded to plain CloudFormation, and its launch role."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localaws import sam_transform, templates
from scripts import launch_role
from tests.support.cfn_template import ROOT

PRODUCT = launch_role.product_from_source("us-east-1")
PORTFOLIO = templates.read(ROOT / "servicecatalog" / "portfolio.yaml")


def test_the_product_has_no_transform_to_expand() -> None:
    assert "Transform" not in PRODUCT
    assert not any(r["Type"].startswith("AWS::Serverless::") for r in PRODUCT["Resources"].values())


def test_the_product_passes_cfn_lint() -> None:
    # Imported here: cfn-lint takes a second to import, and only the worker that runs this test needs it.
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(PRODUCT), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(match) for match in matches] == []


def test_the_product_holds_no_local_path() -> None:
    text = json.dumps(PRODUCT)
    for local in ("functions/", "layers/", "statemachine/", "file://"):
        assert local not in text
    for resource in PRODUCT["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            assert set(resource["Properties"]["Code"]) == {"S3Bucket", "S3Key"}
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            assert "DefinitionS3Location" in resource["Properties"]


def test_the_product_stays_region_agnostic() -> None:
    assert "us-east-1" not in json.dumps(PRODUCT["Resources"])


def test_an_unpackaged_template_is_refused_with_the_fix() -> None:
    with pytest.raises(sam_transform.NotPackaged, match="run sam package first"):
        sam_transform.expand(
            {"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "functions/x/"}}}},
            "us-east-1",
        )


def launch_statements() -> dict[str, dict[str, Any]]:
    (policy,) = PORTFOLIO["Resources"]["LaunchRole"]["Properties"]["Policies"]
    return {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def launch_role_actions() -> set[str]:
    """Every action the launch role may call somewhere."""
    return {a for s in launch_statements().values() if s["Effect"] == "Allow" for a in actions_of(s)}


def test_the_launch_role_is_exactly_what_the_products_resource_types_need() -> None:
    statements = launch_statements()
    computed = launch_role.launch_blocks(PRODUCT)
    assert actions_of(statements["WhatTheProductsResourcesNeed"]) == computed["resources"], "run make servicecatalog"
    assert actions_of(statements["ReadThePackagedCodeAndDefinition"]) == computed["artifacts"]
    assert actions_of(statements["CreateAndChangeTheProductsRolesOnlyWithTheBoundary"]) == computed["bounded"]
    assert actions_of(statements["AttachOnlyTheProductsManagedPoliciesWithTheBoundary"]) == computed["attached"]
    assert actions_of(statements["ReadTagAndDeleteTheProductsRoles"]) == computed["roles"]
    # The handlers of Lambda's and Step Functions' types read the packaged code; IAM's attach and detach.
    assert computed["artifacts"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert computed["attached"] == ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    # The template read (Service Catalog's copy) is the one s3:GetObject not computed from a resource type.
    every_computed = {a for actions in computed.values() for a in actions} | {"iam:PassRole", "s3:GetObject"}
    assert launch_role_actions() == every_computed
    assert set(launch_role.launch_actions(PRODUCT)) == every_computed | {"iam:DeleteRolePermissionsBoundary"}


def test_the_attachable_policies_are_what_make_servicecatalog_computes() -> None:
    condition = launch_statements()["AttachOnlyTheProductsManagedPoliciesWithTheBoundary"]["Condition"]
    written = condition["ArnEquals"]["iam:PolicyARN"]
    block = launch_role.policy_arn_block(launch_role.attached_by_partition())
    computed = templates.parse("PolicyARN:\n" + "".join(f"  - {item}\n" for item in block))["PolicyARN"]
    assert written == computed, "run make servicecatalog"
    assert condition["ArnEquals"]["iam:PermissionsBoundary"] == {"Ref": "OnboardingBoundary"}


def test_policies_the_partitions_do_not_share_are_told_apart_by_one_condition() -> None:
    basic = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    xray, daemon = "arn:${AWS::Partition}:iam::aws:policy/X", "arn:${AWS::Partition}:iam::aws:policy/Y"
    assert launch_role.policy_arn_values([basic, xray], [basic, daemon]) == [
        f"!Sub {basic}",
        f'!If [InTheAwsPartition, !Sub "{xray}", !Sub "{daemon}"]',
    ]
    assert launch_role.policy_arn_values([basic], [basic, daemon]) == [
        f"!Sub {basic}",
        f'!If [InTheAwsPartition, !Ref AWS::NoValue, !Sub "{daemon}"]',
    ]
    with pytest.raises(launch_role.PartitionsDiffer):
        launch_role.policy_arn_block({"aws": [basic], "aws-cn": [basic], "aws-us-gov": [basic, daemon]})
    assert PORTFOLIO["Conditions"]["InTheAwsPartition"] == {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws"]}


def test_a_policy_the_script_cannot_name_by_partition_stops_it() -> None:
    role = {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": [{"Fn::Sub": "arn:x"}]}}
    with pytest.raises(launch_role.UnknownManagedPolicy, match="not an AWS managed policy"):
        launch_role.attached_policies({"Resources": {"R": role}})
    customer = {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": ["arn:aws:iam::111122223333:policy/P"]}}
    with pytest.raises(launch_role.UnknownManagedPolicy):
        launch_role.attached_policies({"Resources": {"R": customer}})
    with pytest.raises(launch_role.UnknownManagedPolicy, match="creates the managed policy"):
        launch_role.attached_policies({"Resources": {"P": {"Type": "AWS::IAM::ManagedPolicy"}}})


def test_the_boundary_is_exactly_what_the_products_roles_are_granted() -> None:
    boundary = PORTFOLIO["Resources"]["OnboardingBoundary"]["Properties"]["PolicyDocument"]
    (statement,) = boundary["Statement"]
    assert statement["Action"] == launch_role.boundary_actions(PRODUCT), "run make servicecatalog"
    # No IAM write: a role under the boundary can never change a role or a policy.
    iam_actions = {a for a in statement["Action"] if a.startswith("iam:")}
    assert iam_actions == {"iam:Get*", "iam:GetRole", "iam:List*", "iam:SimulatePrincipalPolicy"}


@pytest.mark.parametrize("resource_type", sorted({r["Type"] for r in PRODUCT["Resources"].values()}))
def test_the_launch_role_covers_each_resource_type(resource_type: str) -> None:
    needed = {a for a in launch_role.handler_permissions(resource_type) if launch_role.is_iam_action(a)}
    needed -= launch_role.NOT_NEEDED
    assert needed
    # Removing a role's boundary is the one handler permission the portfolio denies on purpose.
    assert needed - {"iam:DeleteRolePermissionsBoundary"} <= launch_role_actions()


def test_the_launch_role_can_pass_the_products_roles_and_run_the_custom_resource() -> None:
    assert {"iam:PassRole", "lambda:InvokeFunction", "cloudformation:CreateStack"} <= launch_role_actions()


def test_the_portfolio_wires_product_constraint_and_principal() -> None:
    resources: dict[str, Any] = PORTFOLIO["Resources"]
    assert resources["LaunchConstraint"]["Properties"]["RoleArn"] == {"Fn::GetAtt": ["LaunchRole", "Arn"]}
    assert resources["LaunchAccess"]["Properties"]["PrincipalARN"] == {"Ref": "LaunchPrincipalArn"}
    artifact = resources["Product"]["Properties"]["ProvisioningArtifactParameters"][0]
    assert artifact["Info"] == {"LoadTemplateFromURL": {"Ref": "ProductTemplateUrl"}}


def pinned_rules() -> dict[str, Any]:
    """The launch template constraint's rules, as Service Catalog gets them after Fn::Sub."""
    constraint = PORTFOLIO["Resources"]["LaunchParametersConstraint"]
    assert constraint["Type"] == "AWS::ServiceCatalog::LaunchTemplateConstraint"
    assert constraint["Properties"]["ProductId"] == {"Ref": "Product"}
    text = constraint["Properties"]["Rules"]["Fn::Sub"]
    substituted = text.replace("${OnboardingBoundary}", BOUNDARY_ARN).replace(
        "${ExpelRoleName}", "ExpelTrailAssumeRole"
    )
    assert "${" not in substituted
    rules: dict[str, Any] = json.loads(substituted)
    return rules


BOUNDARY_ARN = "arn:aws:iam::111122223333:policy/expel-onboarding/portfolio-OnboardingBoundary-AbC123"


def test_a_launcher_cannot_point_the_expel_role_at_a_principal_of_their_own() -> None:
    (assertion,) = pinned_rules()["ExpelPrincipalIsExpels"]["Assertions"]
    expels = templates.read(ROOT / "template.yaml")["Parameters"]["ExpelPrincipalArn"]["Default"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "ExpelPrincipalArn"}, expels]}
    assert "ExpelPrincipalArn" in PRODUCT["Parameters"]


def test_a_launcher_cannot_drop_or_change_the_roles_boundary() -> None:
    (assertion,) = pinned_rules()["PermissionsBoundaryIsThePortfolios"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "PermissionsBoundaryArn"}, BOUNDARY_ARN]}
    assert "PermissionsBoundaryArn" in PRODUCT["Parameters"]


def test_a_launcher_cannot_name_the_expel_role_after_another_role() -> None:
    (assertion,) = pinned_rules()["ExpelRoleNameIsThePortfolios"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "ExpelRoleName"}, "ExpelTrailAssumeRole"]}
    defaults = {t["Parameters"]["ExpelRoleName"]["Default"] for t in (PORTFOLIO, PRODUCT)}
    assert defaults == {"ExpelTrailAssumeRole"}
