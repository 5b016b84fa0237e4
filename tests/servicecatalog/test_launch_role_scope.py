"""The launch role may create, change and pass only the product's roles, and only with the portfolio's
permissions boundary; attach only the managed policies the product attaches; read only the product's
template and packaged code; and be assumed only by Service Catalog provisioning in this account.

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
PACKAGE_BUCKET = "expel-artifacts-111122223333"
# Where make package uploads the code and the product template (the Makefile's sam package --s3-prefix).
PACKAGE_PREFIX = "expel-onboarding"
# What make package prints (scripts/upload.py) for a bucket in us-east-1.
TEMPLATE_URL = f"https://{PACKAGE_BUCKET}.s3.us-east-1.amazonaws.com/expel-onboarding/product-abc1234.template.json"
VALUES = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": ACCOUNT,
    "ExpelRoleName": "ExpelTrailAssumeRole",
    "OnboardingBoundary": BOUNDARY,
    "ProductTemplateUrl": TEMPLATE_URL,
}
NO_VALUE = object()  # AWS::NoValue: CloudFormation drops the item or key that holds it


def resolve(node: Any, values: dict[str, str] = VALUES) -> Any:
    """The portfolio's intrinsics, as CloudFormation resolves them in this account (values)."""
    if isinstance(node, list):
        return [v for v in (resolve(item, values) for item in node) if v is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            return NO_VALUE if arg == "AWS::NoValue" else values[arg]
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            known = values | {name: resolve(value, values) for name, value in variables.items()}
            return re.sub(r"\$\{([^}]+)\}", lambda m: known[m.group(1)], text)
        if key == "Fn::Select":
            return resolve(arg[1], values)[int(arg[0])]
        if key == "Fn::Split":
            return resolve(arg[1], values).split(arg[0])
        if key == "Fn::If":
            holds = resolve(PORTFOLIO["Conditions"][arg[0]], values)
            return resolve(arg[1] if holds else arg[2], values)
        if key == "Fn::Equals":
            left, right = resolve(arg, values)
            return left == right
        if key.startswith("Fn::"):
            raise AssertionError(f"the portfolio uses {key}, which this resolver does not know")
    resolved = {k: resolve(v, values) for k, v in node.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


LAUNCH_ROLE = PORTFOLIO["Resources"]["LaunchRole"]["Properties"]
(POLICY,) = LAUNCH_ROLE["Policies"]
STATEMENTS: list[dict[str, Any]] = resolve(POLICY["PolicyDocument"]["Statement"])


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            present = key in context
            if operator in ("StringEquals", "ArnEquals"):
                holds = present and context[key] in _listed(expected)
            elif operator == "ArnLike":
                # Close enough for the patterns the document uses: each "*" ends the ARN.
                holds = present and any(fnmatchcase(context[key], pattern) for pattern in _listed(expected))
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


BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# IAM puts the policy's ARN in the context of every attach and detach request.
ATTACHING_SAMS_POLICY = {"iam__PolicyARN": BASIC_EXECUTION}


@pytest.mark.parametrize("action", ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"])
@pytest.mark.parametrize("role", [SERVICE_ROLE, EXPEL_ROLE], ids=["service-role", "expel-role"])
def test_the_products_roles_are_created_and_changed_with_the_boundary(action: str, role: str) -> None:
    attaching = ATTACHING_SAMS_POLICY if action == "iam:AttachRolePolicy" else {}
    assert decision(action, role, **WITH_BOUNDARY, **attaching) == "allowed"


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


def role_actions_supporting(condition_key: str) -> set[str]:
    """The IAM role actions that support condition_key, in parliament's copy of the Service Authorization
    Reference, where `make install` put it."""
    found = sorted(
        Path(ROOT, ".venv-tools").glob("parliament/lib/python*/site-packages/parliament/iam_definition.json")
    )
    if not found:
        pytest.skip("parliament's iam_definition.json is not installed (make install)")
    definition = json.loads(found[0].read_text(encoding="utf-8"))
    return {
        f"iam:{privilege['privilege']}"
        for service in definition
        if service["prefix"] == "iam"
        for privilege in service["privileges"]
        if "Role" in privilege["privilege"]
        and any(condition_key in r["condition_keys"] for r in privilege["resource_types"])
    }


def test_the_boundary_condition_is_on_exactly_the_role_actions_iam_supports_it_for() -> None:
    assert role_actions_supporting("iam:PermissionsBoundary") == launch_role.BOUNDARY_CONDITIONED


# --- Who may assume it: Service Catalog, provisioning in this account ------------------------------
# The conditions the Service Catalog administrator guide documents for a launch role's trust policy
# ("AWS Service Catalog Launch Constraints", "Adding Confused Deputy to Launch Constraint"): its
# aws:SourceArn is only ever the templated arn:<partition>:servicecatalog:<region>:<account>:.
DOCUMENTED_TRUST_CONDITION = {
    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    "ArnLike": {
        "aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:servicecatalog:${AWS::Region}:${AWS::AccountId}:*"}
    },
}


def test_the_trust_policy_has_exactly_the_documented_confused_deputy_conditions() -> None:
    (statement,) = LAUNCH_ROLE["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {
        "Sid": "ServiceCatalogLaunches",
        "Effect": "Allow",
        "Principal": {"Service": "servicecatalog.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": DOCUMENTED_TRUST_CONDITION,
    }


def assumed(**context: str) -> bool:
    """Whether Service Catalog, calling with these aws: keys, may assume the launch role."""
    (statement,) = resolve(LAUNCH_ROLE["AssumeRolePolicyDocument"]["Statement"])
    keys = {key.replace("__", ":"): value for key, value in context.items()}
    return statement["Principal"] == {"Service": "servicecatalog.amazonaws.com"} and _condition_holds(
        statement["Condition"], keys
    )


OTHER_ACCOUNT = "444455556666"


@pytest.mark.parametrize(
    ("source_account", "source_arn", "expected"),
    [
        (ACCOUNT, f"arn:aws:servicecatalog:us-east-1:{ACCOUNT}:", True),
        (ACCOUNT, f"arn:aws:servicecatalog:us-east-1:{ACCOUNT}:*", True),
        # A portfolio shared with, or a product provisioned from, another account.
        (OTHER_ACCOUNT, f"arn:aws:servicecatalog:us-east-1:{OTHER_ACCOUNT}:", False),
        (ACCOUNT, f"arn:aws:servicecatalog:us-east-1:{OTHER_ACCOUNT}:", False),
        (OTHER_ACCOUNT, f"arn:aws:servicecatalog:us-east-1:{ACCOUNT}:", False),
        # Another region's Service Catalog, or another service of this account.
        (ACCOUNT, f"arn:aws:servicecatalog:eu-west-1:{ACCOUNT}:", False),
        (ACCOUNT, f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/x/y", False),
    ],
)
def test_only_service_catalog_provisioning_in_this_account_and_region_assumes_it(
    source_account: str, source_arn: str, expected: bool
) -> None:
    assert assumed(aws__SourceAccount=source_account, aws__SourceArn=source_arn) is expected


def test_a_request_without_the_source_keys_does_not_assume_it() -> None:
    assert not assumed()
    assert not assumed(aws__SourceAccount=ACCOUNT)
    assert not assumed(aws__SourceArn=f"arn:aws:servicecatalog:us-east-1:{ACCOUNT}:")


# --- What it reads: the product template and the packaged code, nothing else ------------------------
PROVISIONING_TAG = {"s3__ExistingObjectTag/servicecatalog__provisioning": "true"}
PACKAGED = f"arn:aws:s3:::{PACKAGE_BUCKET}/expel-onboarding/0123456789abcdef0123456789abcdef"
LOG_FILE = f"arn:aws:s3:::aws-controltower-logs-{ACCOUNT}-us-east-1/o-a1b2c3d4e5/AWSLogs/x.json.gz"


def _grants(statement: dict[str, Any], action: str) -> bool:
    return statement["Effect"] == "Allow" and any(
        fnmatchcase(action.lower(), pattern.lower()) for pattern in _listed(statement["Action"])
    )


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:GetObjectVersion"])
def test_no_statement_on_every_resource_reads_an_object(action: str) -> None:
    assert [s["Sid"] for s in STATEMENTS if "*" in _listed(s["Resource"]) and _grants(s, action)] == []


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:GetObjectVersion"])
def test_it_reads_what_make_package_uploaded(action: str) -> None:
    assert decision(action, PACKAGED) == "allowed"
    assert decision(action, f"arn:aws:s3:::{PACKAGE_BUCKET}/expel-onboarding/product-abc1234.template.json") == (
        "allowed"
    )


@pytest.mark.parametrize(
    "resource",
    [
        LOG_FILE,
        f"arn:aws:s3:::{PACKAGE_BUCKET}/another-prefix/0123456789abcdef",
        f"arn:aws:s3:::{PACKAGE_BUCKET}-copy/expel-onboarding/0123456789abcdef",
        "arn:aws:s3:::another-bucket/expel-onboarding/0123456789abcdef",
    ],
    ids=["log-file", "other-prefix", "similar-bucket", "other-bucket"],
)
@pytest.mark.parametrize("action", ["s3:GetObject", "s3:GetObjectVersion"])
def test_it_reads_no_other_object(action: str, resource: str) -> None:
    assert decision(action, resource) == "implicitDeny"


def test_it_reads_the_template_copy_service_catalog_tagged_for_provisioning_only() -> None:
    # Service Catalog's copy sits in a bucket AWS does not name (this name is made up): the documented tag
    # is what tells it apart.
    service_copy = "arn:aws:s3:::sc-0123456789abcdef0123456789abcdef-us-east-1/templates/product.json"
    assert decision("s3:GetObject", service_copy, **PROVISIONING_TAG) == "allowed"
    assert decision("s3:GetObject", service_copy) == "implicitDeny"
    assert decision("s3:GetObject", LOG_FILE, **{"s3__ExistingObjectTag/servicecatalog__provisioning": "false"}) == (
        "implicitDeny"
    )
    # GetObjectVersion is not what AWS documents for the template: only the packaged code gets it.
    assert decision("s3:GetObjectVersion", service_copy, **PROVISIONING_TAG) == "implicitDeny"


def test_the_template_read_is_exactly_the_documented_one() -> None:
    (statement,) = [s for s in STATEMENTS if s["Sid"] == "ReadTheProductTemplateServiceCatalogKeeps"]
    assert statement == {
        "Sid": "ReadTheProductTemplateServiceCatalogKeeps",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::*/*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}},
    }


PARAMETER = PORTFOLIO["Parameters"]["ProductTemplateUrl"]


def package_bucket(url: str) -> str:
    """The bucket the portfolio grants the packaged-code reads on, for this ProductTemplateUrl."""
    (statement,) = [
        s
        for s in resolve(POLICY["PolicyDocument"]["Statement"], VALUES | {"ProductTemplateUrl": url})
        if s["Sid"] == "ReadThePackagedCodeAndDefinition"
    ]
    resource: str = statement["Resource"]
    assert resource.endswith(f"/{PACKAGE_PREFIX}/*")
    return resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]


@pytest.mark.parametrize(
    ("url", "bucket"),
    [
        (TEMPLATE_URL, PACKAGE_BUCKET),
        ("https://my-bucket.s3.eu-west-1.amazonaws.com/expel-onboarding/product-abc1234.template.json", "my-bucket"),
        ("https://s3-bucket.s3.amazonaws.com/expel-onboarding/product-abc1234.template.json", "s3-bucket"),
        ("https://b12.s3.cn-north-1.amazonaws.com.cn/expel-onboarding/product-abc1234.template.json", "b12"),
        ("https://b12.s3.dualstack.us-east-1.amazonaws.com/expel-onboarding/p.template.json", "b12"),
    ],
)
def test_every_url_the_parameter_accepts_names_its_bucket_first(url: str, bucket: str) -> None:
    assert re.fullmatch(PARAMETER["AllowedPattern"], url)
    assert package_bucket(url) == bucket


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (
            "https://s3.us-east-1.amazonaws.com/my-bucket/expel-onboarding/p.template.json",
            "path-style: host is not the bucket",
        ),
        ("https://my.bucket.s3.us-east-1.amazonaws.com/expel-onboarding/p.template.json", "a dot in the bucket name"),
        ("https://my-bucket.s3.us-east-1.amazonaws.com/elsewhere/p.template.json", "not where make package uploads"),
        ("http://my-bucket.s3.us-east-1.amazonaws.com/expel-onboarding/p.template.json", "not https"),
        ("https://my-bucket.example.com/expel-onboarding/p.template.json", "not S3"),
        ("https://my-bucket.s3.us-east-1.amazonaws.com/expel-onboarding/p.zip", "not a template"),
    ],
)
def test_the_parameter_refuses_a_url_whose_bucket_the_portfolio_cannot_read(url: str, why: str) -> None:
    assert not re.fullmatch(PARAMETER["AllowedPattern"], url), why


def test_make_package_uploads_where_the_portfolio_reads() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (prefix,) = re.findall(r"\) package --s3-bucket \$\(BUCKET\) --s3-prefix (\S+)", makefile)
    (template_key,) = re.findall(r"scripts\.upload \S+ \$\(BUCKET\) (\S+)/product-", makefile)
    assert prefix == template_key == PACKAGE_PREFIX


def test_the_url_make_package_prints_is_accepted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts import upload

    class S3:
        def upload_file(self, path: str, bucket: str, key: str) -> None:
            pass

        def get_bucket_location(self, Bucket: str) -> dict[str, str | None]:  # noqa: N803 - boto3's name
            return {"LocationConstraint": "eu-west-1"}

    monkeypatch.setattr(upload.boto3, "client", lambda service: S3())
    upload.main(".aws-sam/product.template.json", "my-bucket", "expel-onboarding/product-abc1234.template.json")
    url = capsys.readouterr().out.strip().removeprefix("ProductTemplateUrl=")
    assert re.fullmatch(PARAMETER["AllowedPattern"], url)
    assert package_bucket(url) == "my-bucket"


# --- Which managed policies it attaches: the ones the product attaches, nothing else ----------------
def attached_in(product: dict[str, Any]) -> set[str]:
    """Every managed policy ARN the expanded product attaches to one of its roles."""
    assert not [r for r in product["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    return {
        arn
        for resource in product["Resources"].values()
        if resource["Type"] == "AWS::IAM::Role"
        for arn in resource["Properties"].get("ManagedPolicyArns", [])
    }


def allowed_policy_arns(partition: str) -> set[str]:
    (statement,) = [
        s
        for s in resolve(POLICY["PolicyDocument"]["Statement"], VALUES | {"AWS::Partition": partition})
        if s["Sid"] == "AttachOnlyTheProductsManagedPoliciesWithTheBoundary"
    ]
    return set(_listed(statement["Condition"]["ArnEquals"]["iam:PolicyARN"]))


@pytest.mark.parametrize(("partition", "region"), sorted(launch_role.PARTITION_REGIONS.items()))
def test_it_may_attach_exactly_the_managed_policies_the_product_attaches(partition: str, region: str) -> None:
    # The product as make package expands it for a region of that partition.
    attached = attached_in(launch_role.product_from_source(region))
    assert attached
    assert {arn.split(":", 2)[1] for arn in attached} == {partition}
    assert allowed_policy_arns(partition) == attached


@pytest.mark.parametrize("action", ["iam:AttachRolePolicy", "iam:DetachRolePolicy"])
@pytest.mark.parametrize("role", [SERVICE_ROLE, EXPEL_ROLE], ids=["service-role", "expel-role"])
def test_only_the_products_managed_policies_are_attached_or_detached(action: str, role: str) -> None:
    for policy in attached_in(PRODUCT):
        assert decision(action, role, **WITH_BOUNDARY, iam__PolicyARN=policy) == "allowed", policy
    for policy in (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/IAMFullAccess",
        f"arn:aws:iam::{ACCOUNT}:policy/service-role/AWSLambdaBasicExecutionRole",
        BOUNDARY,
    ):
        assert decision(action, role, **WITH_BOUNDARY, iam__PolicyARN=policy) == "implicitDeny", policy
    # Without our boundary, not even SAM's policy.
    assert decision(action, role, iam__PolicyARN=BASIC_EXECUTION) == "implicitDeny"


def test_only_the_attach_statement_attaches_or_detaches() -> None:
    for action in ("iam:AttachRolePolicy", "iam:DetachRolePolicy"):
        granting = [s["Sid"] for s in STATEMENTS if _grants(s, action)]
        assert granting == ["AttachOnlyTheProductsManagedPoliciesWithTheBoundary"], action


def test_the_policy_arn_condition_is_on_exactly_the_role_actions_iam_supports_it_for() -> None:
    assert role_actions_supporting("iam:PolicyARN") == launch_role.POLICY_ARN_CONDITIONED
