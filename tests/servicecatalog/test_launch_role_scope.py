"""The launch role may create, change and pass only the product's roles, and only with the portfolio's
permissions boundary.

moto's IAM does not evaluate policy conditions (iam:PermissionsBoundary, iam:PassedToService) at all,
so these tests evaluate the launch role's own policy document, as deployed, with the few rules of IAM's
policy evaluation it relies on (IAM user guide, "Policy evaluation logic": an explicit Deny wins, then
an Allow whose Action, Resource and Condition all match; otherwise an implicit deny). The operators are
the ones the document uses; an unknown one fails the test rather than guess.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from localaws import templates
from scripts import launch_role
from tests.support.cfn_template import ROOT

PORTFOLIO = templates.read(ROOT / "servicecatalog" / "portfolio.yaml")
PRODUCT = launch_role.product_from_source("us-east-1")
ACCOUNT = "111122223333"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/expel-onboarding/portfolio-OnboardingBoundary-AbC123"
VALUES = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "ExpelRoleName": "ExpelTrailAssumeRole"}
REFS = {"OnboardingBoundary": BOUNDARY}


def resolve(node: Any) -> Any:
    """The portfolio's intrinsics, as CloudFormation resolves them in this account."""
    if isinstance(node, list):
        return [resolve(item) for item in node]
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: VALUES[m.group(1)], node["Fn::Sub"])
        if set(node) == {"Ref"}:
            return REFS[node["Ref"]]
        return {key: resolve(value) for key, value in node.items()}
    return node


(POLICY,) = PORTFOLIO["Resources"]["LaunchRole"]["Properties"]["Policies"]
STATEMENTS: list[dict[str, Any]] = resolve(POLICY["PolicyDocument"]["Statement"])


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            present = key in context
            if operator in ("StringEquals", "ArnEquals"):
                holds = present and context[key] in _listed(expected)
            elif operator in ("StringNotEquals", "ArnNotEquals"):
                # A negated operator matches a request that lacks the key (IAM user guide, "Condition operators").
                holds = not present or context[key] not in _listed(expected)
            else:
                raise AssertionError(f"the launch role uses {operator}, which this evaluator does not know")
            if not holds:
                return False
    return True


def _matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    return (
        any(fnmatchcase(action.lower(), a.lower()) for a in _listed(statement["Action"]))
        and any(fnmatchcase(resource, r) for r in _listed(statement["Resource"]))
        and _condition_holds(statement.get("Condition", {}), context)
    )


def decision(action: str, resource: str, **context: str) -> str:
    keys = {key.replace("__", ":"): value for key, value in context.items()}
    matching = [s for s in STATEMENTS if _matches(s, action, resource, keys)]
    if any(s["Effect"] == "Deny" for s in matching):
        return "explicitDeny"
    return "allowed" if matching else "implicitDeny"


SERVICE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/expel-onboarding/expel-onboarding-VerifyFunctionRole-AbC123"
EXPEL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ExpelTrailAssumeRole"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"
OTHER_PATH = f"arn:aws:iam::{ACCOUNT}:role/admins/expel-onboarding-Escalate"
WITH_BOUNDARY = {"iam__PermissionsBoundary": BOUNDARY}
ANOTHER_BOUNDARY = {"iam__PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}


@pytest.mark.parametrize("action", ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"])
@pytest.mark.parametrize("role", [SERVICE_ROLE, EXPEL_ROLE], ids=["service-role", "expel-role"])
def test_the_products_roles_are_created_and_changed_with_the_boundary(action: str, role: str) -> None:
    assert decision(action, role, **WITH_BOUNDARY) == "allowed"


# Creating or bounding a role without our boundary is explicitly denied, whoever else allows it; a role
# without it is not one of the product's, so nothing allows changing it.
REFUSED_WITHOUT_OUR_BOUNDARY = [
    ("iam:CreateRole", "explicitDeny"),
    ("iam:PutRolePermissionsBoundary", "explicitDeny"),
    ("iam:AttachRolePolicy", "implicitDeny"),
    ("iam:PutRolePolicy", "implicitDeny"),
]


@pytest.mark.parametrize(("action", "expected"), REFUSED_WITHOUT_OUR_BOUNDARY)
def test_a_product_role_without_the_boundary_is_refused(action: str, expected: str) -> None:
    assert decision(action, SERVICE_ROLE) == expected


@pytest.mark.parametrize(("action", "expected"), REFUSED_WITHOUT_OUR_BOUNDARY)
def test_a_product_role_with_another_boundary_is_refused(action: str, expected: str) -> None:
    assert decision(action, SERVICE_ROLE, **ANOTHER_BOUNDARY) == expected


@pytest.mark.parametrize("role", [OTHER_ROLE, OTHER_PATH], ids=["another-role", "another-path"])
@pytest.mark.parametrize(
    "action",
    ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy"],
)
def test_a_role_outside_the_product_is_refused_even_with_the_boundary(role: str, action: str) -> None:
    assert decision(action, role, **WITH_BOUNDARY) != "allowed"


def test_the_expel_role_made_by_the_org_stackset_can_get_the_products_inline_policy() -> None:
    # CreateExpelRole=false: the StackSet's role has no boundary; the product attaches ExpelPolicy to it.
    assert decision("iam:PutRolePolicy", EXPEL_ROLE) == "allowed"
    assert decision("iam:AttachRolePolicy", EXPEL_ROLE) == "implicitDeny"


@pytest.mark.parametrize(
    ("role", "service", "expected"),
    [
        (SERVICE_ROLE, "lambda.amazonaws.com", "allowed"),
        (SERVICE_ROLE, "states.amazonaws.com", "allowed"),
        (SERVICE_ROLE, "scheduler.amazonaws.com", "allowed"),
        (SERVICE_ROLE, "ec2.amazonaws.com", "implicitDeny"),
        (SERVICE_ROLE, "cloudformation.amazonaws.com", "implicitDeny"),
        (EXPEL_ROLE, "lambda.amazonaws.com", "implicitDeny"),
        (OTHER_ROLE, "lambda.amazonaws.com", "implicitDeny"),
    ],
)
def test_only_the_products_service_roles_are_passed_and_only_to_their_services(
    role: str, service: str, expected: str
) -> None:
    assert decision("iam:PassRole", role, iam__PassedToService=service) == expected


@pytest.mark.parametrize("role", [SERVICE_ROLE, EXPEL_ROLE, OTHER_ROLE])
def test_no_role_ever_loses_its_boundary(role: str) -> None:
    assert decision("iam:DeleteRolePermissionsBoundary", role, **WITH_BOUNDARY) == "explicitDeny"


@pytest.mark.parametrize(
    "action", ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy"]
)
def test_the_boundary_policy_itself_cannot_be_changed(action: str) -> None:
    assert decision(action, BOUNDARY) == "explicitDeny"


def test_every_role_the_product_creates_is_under_the_path_and_the_boundary() -> None:
    (scoped,) = {r for s in STATEMENTS if s["Sid"] == "PassOnlyTheProductsServiceRoles" for r in _listed(s["Resource"])}
    path = scoped.split(":role", 1)[1].removesuffix("*")
    roles = {name: r["Properties"] for name, r in PRODUCT["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert len(roles) > 10
    for name, properties in roles.items():
        assert properties["PermissionsBoundary"] == {
            "Fn::If": ["BoundaryGiven", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
        }, name
        # The Expel role keeps its ARN role/<ExpelRoleName>: Workbench and the key statement name it so.
        # The KeyPolicy and Verify roles sit one level deeper, where the delegate's resource policy names them.
        found = properties.get("Path")
        assert found is None if name == "ExpelRole" else str(found).startswith(path), name


def test_the_expel_roles_arn_is_the_same_everywhere_it_is_named() -> None:
    template = templates.read(ROOT / "template.yaml")
    by_name = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExpelRoleName}"
    resources = template["Resources"]
    key_grant = next(
        s
        for s in resources["NotificationKey"]["Properties"]["KeyPolicy"]["Statement"]
        if isinstance(s, dict) and s.get("Sid") == "AllowExpelRoleToReadTheQueue"
    )
    assert key_grant["Condition"]["ArnEquals"]["aws:PrincipalArn"] == {"Fn::Sub": by_name}
    verify = next(
        s
        for p in resources["VerifyFunction"]["Properties"]["Policies"]
        for s in p["Statement"]
        if isinstance(s, dict) and s.get("Sid") == "ReadAndSimulateTheExpelRole"
    )
    assert verify["Resource"] == {"Fn::Sub": by_name}
    environment = template["Globals"]["Function"]["Environment"]["Variables"]["EXPEL_ROLE_ARN"]
    assert environment == {"Fn::If": ["CreateRole", {"Fn::GetAtt": ["ExpelRole", "Arn"]}, {"Fn::Sub": by_name}]}
    assert "Path" not in resources["ExpelRole"]["Properties"]
    management = templates.read(ROOT / "org" / "management.yaml")
    delegate_env = management["Resources"]["KeyPolicyDelegate"]["Properties"]["Environment"]["Variables"]
    assert delegate_env["EXPEL_ROLE_ARN"] == {"Fn::Sub": by_name.replace("${AWS::AccountId}", "${LogArchiveAccountId}")}


def test_the_boundary_condition_is_on_exactly_the_role_actions_iam_supports_it_for() -> None:
    """Against parliament's copy of the Service Authorization Reference, where `make install` put it."""
    found = sorted(
        Path(ROOT, ".venv-tools").glob("parliament/lib/python*/site-packages/parliament/iam_definition.json")
    )
    if not found:
        pytest.skip("parliament's iam_definition.json is not installed (make install)")
    definition = json.loads(found[0].read_text(encoding="utf-8"))
    supported = {
        f"iam:{privilege['privilege']}"
        for service in definition
        if service["prefix"] == "iam"
        for privilege in service["privileges"]
        if "Role" in privilege["privilege"]
        and any("iam:PermissionsBoundary" in r["condition_keys"] for r in privilege["resource_types"])
    }
    assert supported == launch_role.BOUNDARY_CONDITIONED
