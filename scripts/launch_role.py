"""The Service Catalog launch role's actions and the product's permissions boundary, computed from
the product template.

Each resource type's CloudFormation registry schema lists the permissions its create, read, update
and delete handlers need (cfn-lint ships the schemas). The launch role gets exactly their union,
plus what CloudFormation itself needs, split by what IAM can scope:
- resources: every action but IAM's, on "*" (the product's resource names are unknown until launch);
- bounded: the IAM role actions that support the iam:PermissionsBoundary condition key, allowed on
  the product's roles only with the portfolio's boundary;
- roles: the other IAM role actions, on the product's roles (iam:PassRole has a statement of its own,
  and removing a boundary is denied).
The boundary is the union of what the product's roles are granted: their inline policies, the
AWS::IAM::Policy documents, and the AWS managed policies SAM attaches.
`make servicecatalog` writes the four lists into servicecatalog/portfolio.yaml; the tests fail if
one is stale.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from localaws import templates
from localaws.sam_transform import expand

ROOT = Path(__file__).resolve().parents[1]
PORTFOLIO = ROOT / "servicecatalog" / "portfolio.yaml"
HANDLERS = ("create", "read", "update", "delete")
# Service Catalog drives CloudFormation with the launch role; CloudFormation invokes custom resources.
BASE_ACTIONS = {
    "cloudformation:CreateStack",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplateSummary",
    "cloudformation:SetStackPolicy",
    "cloudformation:UpdateStack",
    "cloudformation:ValidateTemplate",
    "s3:GetObject",
}
CUSTOM_RESOURCE_ACTIONS = {"lambda:InvokeFunction"}
# AWS::IAM::Policy's handlers may attach to users and groups too; the product's policies name roles
# only, and a launch role that may write user or group policies is a privilege-escalation path.
NOT_NEEDED = {
    "iam:DeleteGroupPolicy",
    "iam:DeleteUserPolicy",
    "iam:GetGroupPolicy",
    "iam:GetUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutUserPolicy",
}
# The role actions that support the iam:PermissionsBoundary condition key (Service Authorization
# Reference, "Actions, resources, and condition keys for AWS Identity and Access Management":
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
# iam:DeleteRole, iam:PassRole, iam:TagRole and iam:UpdateAssumeRolePolicy do not.
BOUNDARY_CONDITIONED = frozenset(
    {
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
    }
)
# Its own statement (only the service roles, only to their services); and the portfolio denies it.
SEPARATE = frozenset({"iam:PassRole", "iam:DeleteRolePermissionsBoundary"})
# What the AWS managed policies SAM attaches allow (AWS Managed Policy Reference Guide):
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaSQSQueueExecutionRole.html
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXrayWriteOnlyAccess.html
MANAGED_POLICY_ACTIONS: dict[str, frozenset[str]] = {
    "AWSLambdaBasicExecutionRole": frozenset({"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}),
    "AWSLambdaSQSQueueExecutionRole": frozenset(
        {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        }
    ),
    "AWSXrayWriteOnlyAccess": frozenset(
        {
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:GetSamplingStatisticSummaries",
        }
    ),
}
BLOCKS = {
    "resources": "                  ",
    "bounded": "                  ",
    "roles": "                  ",
    "boundary": "              ",
}


class UnknownManagedPolicy(Exception):
    """The product attaches a managed policy whose actions this script does not know."""


@cache
def _schema_files() -> dict[str, str]:
    providers = files("cfnlint").joinpath("data/schemas/providers/us-east-1.json").read_text()
    loaded: dict[str, str] = json.loads(providers)
    return loaded


def handler_permissions(resource_type: str) -> set[str]:
    if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
        return set(CUSTOM_RESOURCE_ACTIONS)
    schema_file = _schema_files()[resource_type]
    schema: dict[str, Any] = json.loads(
        files("cfnlint").joinpath(f"data/schemas/resources/{schema_file}.json").read_text()
    )
    handlers = schema["handlers"]
    return {permission for name in HANDLERS for permission in handlers.get(name, {}).get("permissions", [])}


@cache
def _known_actions() -> dict[str, Any]:
    """cfn-lint's copy of the IAM Service Authorization Reference."""
    loaded: dict[str, Any] = json.loads(files("cfnlint").joinpath("data/AdditionalSpecs/Policies.json").read_text())
    return loaded


def is_iam_action(action: str) -> bool:
    """Some schemas list names IAM does not know (internal or retired); a policy must not carry them."""
    service, _, name = action.partition(":")
    return name.lower() in _known_actions().get(service, {}).get("Actions", {})


def launch_actions(product: dict[str, Any]) -> list[str]:
    types = {resource["Type"] for resource in product["Resources"].values()}
    actions = set(BASE_ACTIONS)
    for resource_type in types:
        actions |= handler_permissions(resource_type)
    actions -= NOT_NEEDED
    return sorted((action for action in actions if is_iam_action(action)), key=str.lower)


def launch_blocks(product: dict[str, Any]) -> dict[str, list[str]]:
    """The launch role's actions, by the statement that holds them (see the module docstring)."""
    actions = launch_actions(product)
    iam = [action for action in actions if action.startswith("iam:")]
    return {
        "resources": [action for action in actions if not action.startswith("iam:")],
        "bounded": [action for action in iam if action in BOUNDARY_CONDITIONED - SEPARATE],
        "roles": [action for action in iam if action not in BOUNDARY_CONDITIONED | SEPARATE],
    }


def _allowed_actions(node: Any) -> set[str]:
    """The actions of every Allow statement under node, in both branches of every Fn::If."""
    found: set[str] = set()
    if isinstance(node, dict):
        if node.get("Effect") == "Allow" and "Action" in node:
            action = node["Action"]
            found |= set(action if isinstance(action, list) else [action])
        for value in node.values():
            found |= _allowed_actions(value)
    elif isinstance(node, list):
        for value in node:
            found |= _allowed_actions(value)
    return found


def boundary_actions(product: dict[str, Any]) -> list[str]:
    """Everything the product's roles are granted: the ceiling their boundary sets."""
    found: set[str] = set()
    for resource in product["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            found |= _allowed_actions([policy["PolicyDocument"] for policy in properties.get("Policies", [])])
            for arn in properties.get("ManagedPolicyArns", []):
                name = str(arn).rsplit("/", 1)[-1]
                if name not in MANAGED_POLICY_ACTIONS:
                    fix = "add its actions to MANAGED_POLICY_ACTIONS in scripts/launch_role.py"
                    raise UnknownManagedPolicy(f"The product attaches {arn}: {fix}.")
                found |= MANAGED_POLICY_ACTIONS[name]
        elif resource["Type"] == "AWS::IAM::Policy":
            found |= _allowed_actions(properties["PolicyDocument"])
    return sorted(found, key=str.lower)


def portfolio_blocks(product: dict[str, Any]) -> dict[str, list[str]]:
    return {**launch_blocks(product), "boundary": boundary_actions(product)}


def product_from_source(region: str = "us-east-1") -> dict[str, Any]:
    """template.yaml expanded as if packaged: the resource types do not depend on the code's place."""
    template = templates.read(ROOT / "template.yaml")
    for name, resource in template["Resources"].items():
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://packaged-artifacts/{name}"
        if isinstance(resource.get("Properties", {}).get("Code"), str):
            resource["Properties"]["Code"] = {"S3Bucket": "packaged-artifacts", "S3Key": name}
    return expand(template, region)


def write_portfolio(blocks: dict[str, list[str]]) -> None:
    text = PORTFOLIO.read_text(encoding="utf-8")
    for name, actions in blocks.items():
        indent = BLOCKS[name]
        begin = f"{indent[:-2]}# BEGIN computed by scripts/launch_role.py (make servicecatalog): {name}\n"
        end = f"{indent[:-2]}# END computed: {name}\n"
        block = begin + "".join(f"{indent}- {action}\n" for action in actions) + end
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        # A function, not the block itself: re would read backslashes in it as escapes.
        text, count = pattern.subn(lambda _match, block=block: str(block), text)  # type: ignore[misc]
        if count != 1:
            raise ValueError(f"{PORTFOLIO.name} must hold the computed block {name!r} once, found {count}")
    PORTFOLIO.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_portfolio(portfolio_blocks(product_from_source()))
    print(f"wrote {PORTFOLIO.relative_to(ROOT)}")
