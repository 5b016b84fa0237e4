"""The Service Catalog launch role's actions and the product's permissions boundary, computed from
the product template.

Each resource type's CloudFormation registry schema lists the permissions its create, read, update
and delete handlers need (cfn-lint ships the schemas). The launch role gets exactly their union,
plus what CloudFormation itself needs, split by what IAM can scope:
- resources: every action but IAM's, on "*" (the product's resource names are unknown until launch);
- artifacts: the S3 object reads, on the objects `make package` uploaded only (Lambda and Step
  Functions read the packaged code, layer and definition with the caller's credentials);
- bounded: the IAM role actions that support the iam:PermissionsBoundary condition key, allowed on
  the product's roles only with the portfolio's boundary;
- attached: those of them that also support iam:PolicyARN (attaching and detaching a managed policy),
  with the boundary and only for the managed policies the product attaches (policies, by partition);
- roles: the other IAM role actions, on the product's roles (iam:PassRole has a statement of its own,
  and removing a boundary is denied).
The boundary is the union of what the product's roles are granted: their inline policies, the
AWS::IAM::Policy documents, and the AWS managed policies SAM attaches.
`make servicecatalog` writes the seven lists into servicecatalog/portfolio.yaml; the tests fail if
one is stale.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from itertools import zip_longest
from pathlib import Path
from typing import Any

from localaws import templates
from localaws.sam_transform import expand

ROOT = Path(__file__).resolve().parents[1]
PORTFOLIO = ROOT / "servicecatalog" / "portfolio.yaml"
HANDLERS = ("create", "read", "update", "delete")
# Service Catalog drives CloudFormation with the launch role; CloudFormation invokes custom resources.
# Reading the product template is a statement of its own in the portfolio: Service Catalog's copy of
# it, in a bucket AWS does not name, is known only by its servicecatalog:provisioning tag.
BASE_ACTIONS = {
    "cloudformation:CreateStack",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplateSummary",
    "cloudformation:SetStackPolicy",
    "cloudformation:UpdateStack",
    "cloudformation:ValidateTemplate",
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
# Of those, the ones that also support iam:PolicyARN (same reference): the portfolio allows them only
# for the managed policies the product attaches.
POLICY_ARN_CONDITIONED = frozenset({"iam:AttachRolePolicy", "iam:DetachRolePolicy"})
# Its own statement (only the service roles, only to their services); and the portfolio denies it.
SEPARATE = frozenset({"iam:PassRole", "iam:DeleteRolePermissionsBoundary"})
# SAM's X-Ray policy differs by partition (samtranslator's get_xray_managed_policy_name): the product
# is expanded in the region it is packaged for, and the portfolio serves every partition. One region of
# each partition SAM tells apart: "aws" and every other one.
PARTITION_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
AWS_MANAGED_POLICY = re.compile(r"arn:aws(-[a-z]+)*:iam::aws:policy/(?P<path_and_name>[A-Za-z0-9+=,.@_/-]+)")
# The portfolio's condition that tells the aws partition from the others.
IN_THE_AWS_PARTITION = "InTheAwsPartition"
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
    "artifacts": "                  ",
    "bounded": "                  ",
    "attached": "                  ",
    "policies": "                      ",
    "roles": "                  ",
    "boundary": "              ",
}


class UnknownManagedPolicy(Exception):
    """The product attaches a managed policy this script does not know: its actions, or how to name it."""


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


def is_object_read(action: str) -> bool:
    """s3:GetObject and its kin (GetObjectVersion, ...). The product's functions, layer and state machine
    name their code and definition by S3 bucket and key, and Lambda and CloudFormation read those objects
    with the launch role's credentials: the portfolio grants these reads on what make package uploaded
    only (the expel-onboarding/ prefix of ProductTemplateUrl's bucket), never on "*"."""
    return action.startswith("s3:GetObject")


def launch_blocks(product: dict[str, Any]) -> dict[str, list[str]]:
    """The launch role's actions, by the statement that holds them (see the module docstring)."""
    actions = launch_actions(product)
    iam = [action for action in actions if action.startswith("iam:")]
    others = [action for action in actions if not action.startswith("iam:")]
    bounded = BOUNDARY_CONDITIONED - SEPARATE
    return {
        "resources": [action for action in others if not is_object_read(action)],
        "artifacts": [action for action in others if is_object_read(action)],
        "bounded": [action for action in iam if action in bounded - POLICY_ARN_CONDITIONED],
        "attached": [action for action in iam if action in bounded & POLICY_ARN_CONDITIONED],
        "roles": [action for action in iam if action not in BOUNDARY_CONDITIONED | SEPARATE],
    }


def attached_policies(product: dict[str, Any]) -> list[str]:
    """The AWS managed policies the product attaches to its roles, the partition as ${AWS::Partition}."""
    found: set[str] = set()
    for name, resource in product["Resources"].items():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            # Its Roles would be attached a policy of this account; the portfolio allows AWS managed ones only.
            fix = "the launch role attaches AWS managed policies only: allow it in servicecatalog/portfolio.yaml"
            raise UnknownManagedPolicy(f"The product creates the managed policy {name}: {fix}.")
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for arn in resource.get("Properties", {}).get("ManagedPolicyArns", []):
            match = AWS_MANAGED_POLICY.fullmatch(arn) if isinstance(arn, str) else None
            if match is None:
                raise UnknownManagedPolicy(f"{name} attaches {arn!r}, not an AWS managed policy's ARN.")
            found.add("arn:${AWS::Partition}:iam::aws:policy/" + match["path_and_name"])
    return sorted(found, key=str.lower)


def policy_arn_values(in_aws: list[str], elsewhere: list[str]) -> list[str]:
    """The iam:PolicyARN list, as YAML items: the policies every partition attaches, then one Fn::If
    for each policy the aws partition attaches and the others do not (or the reverse)."""
    items = [f"!Sub {arn}" for arn in in_aws if arn in elsewhere]
    only_aws = [arn for arn in in_aws if arn not in elsewhere]
    only_elsewhere = [arn for arn in elsewhere if arn not in in_aws]
    for aws_arn, other_arn in zip_longest(only_aws, only_elsewhere):
        branches = [f'!Sub "{arn}"' if arn else "!Ref AWS::NoValue" for arn in (aws_arn, other_arn)]
        items.append(f"!If [{IN_THE_AWS_PARTITION}, {branches[0]}, {branches[1]}]")
    return items


def attached_by_partition() -> dict[str, list[str]]:
    """What the product attaches, expanded as make package would in each partition."""
    return {
        partition: attached_policies(product_from_source(region)) for partition, region in PARTITION_REGIONS.items()
    }


class PartitionsDiffer(Exception):
    """Partitions other than aws attach different policies: one Fn::If on aws cannot tell them apart."""


def policy_arn_block(by_partition: dict[str, list[str]]) -> list[str]:
    """The policies block, from what the product attaches in each partition (attached_by_partition)."""
    elsewhere = {tuple(policies) for partition, policies in by_partition.items() if partition != "aws"}
    if len(elsewhere) != 1:
        raise PartitionsDiffer(f"the partitions other than aws attach different policies: {by_partition}")
    return policy_arn_values(by_partition["aws"], list(elsewhere.pop()))


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


def portfolio_blocks(product: dict[str, Any], by_partition: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        **launch_blocks(product),
        "policies": policy_arn_block(by_partition),
        "boundary": boundary_actions(product),
    }


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
    write_portfolio(portfolio_blocks(product_from_source(), attached_by_partition()))
    print(f"wrote {PORTFOLIO.relative_to(ROOT)}")
