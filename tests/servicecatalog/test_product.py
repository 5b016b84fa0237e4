"""The Service Catalog product: template.yaml expanded to plain CloudFormation, and its launch role."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from localaws import sam_transform
from scripts import launch_role
from tests.support.cfn_template import ROOT, load_template

PRODUCT = launch_role.product_from_source("us-east-1")
PORTFOLIO = load_template(ROOT / "servicecatalog" / "portfolio.yaml")


def test_the_product_has_no_transform_to_expand() -> None:
    assert "Transform" not in PRODUCT
    assert not any(r["Type"].startswith("AWS::Serverless::") for r in PRODUCT["Resources"].values())


def test_the_product_passes_cfn_lint() -> None:
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


def launch_role_actions() -> set[str]:
    (policy,) = PORTFOLIO["Resources"]["LaunchRole"]["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    return set(statement["Action"])


def test_the_launch_role_is_exactly_what_the_products_resource_types_need() -> None:
    assert launch_role_actions() == set(launch_role.launch_actions(PRODUCT)), "run make servicecatalog"


@pytest.mark.parametrize("resource_type", sorted({r["Type"] for r in PRODUCT["Resources"].values()}))
def test_the_launch_role_covers_each_resource_type(resource_type: str) -> None:
    needed = {a for a in launch_role.handler_permissions(resource_type) if launch_role.is_iam_action(a)}
    needed -= launch_role.NOT_NEEDED
    assert needed
    assert needed <= launch_role_actions()


def test_the_launch_role_can_pass_roles_and_run_the_custom_resource() -> None:
    assert {"iam:PassRole", "lambda:InvokeFunction", "cloudformation:CreateStack"} <= launch_role_actions()


def test_the_portfolio_wires_product_constraint_and_principal() -> None:
    resources: dict[str, Any] = PORTFOLIO["Resources"]
    assert resources["LaunchConstraint"]["Properties"]["RoleArn"] == {"Fn::GetAtt": ["LaunchRole", "Arn"]}
    assert resources["LaunchAccess"]["Properties"]["PrincipalARN"] == {"Ref": "LaunchPrincipalArn"}
    artifact = resources["Product"]["Properties"]["ProvisioningArtifactParameters"][0]
    assert artifact["Info"] == {"LoadTemplateFromURL": {"Ref": "ProductTemplateUrl"}}


def test_a_launcher_cannot_point_the_expel_role_at_a_principal_of_their_own() -> None:
    constraint = PORTFOLIO["Resources"]["ExpelPrincipalConstraint"]
    assert constraint["Type"] == "AWS::ServiceCatalog::LaunchTemplateConstraint"
    assert constraint["Properties"]["ProductId"] == {"Ref": "Product"}
    rules = json.loads(constraint["Properties"]["Rules"])
    (assertion,) = rules["ExpelPrincipalIsExpels"]["Assertions"]
    expels = load_template(ROOT / "template.yaml")["Parameters"]["ExpelPrincipalArn"]["Default"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "ExpelPrincipalArn"}, expels]}
    assert "ExpelPrincipalArn" in PRODUCT["Parameters"]
