"""The Service Catalog launch role's actions, computed from the product template's resource types.

Each resource type's CloudFormation registry schema lists the permissions its create, read, update
and delete handlers need (cfn-lint ships the schemas). The launch role gets exactly their union,
plus what CloudFormation itself needs. `make servicecatalog` writes the list into
servicecatalog/portfolio.yaml; the tests fail if it is stale.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

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
BEGIN = "                # BEGIN computed by scripts/launch_role.py (make servicecatalog)\n"
END = "                # END computed\n"


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


def product_from_source(region: str = "us-east-1") -> dict[str, Any]:
    """template.yaml expanded as if packaged: the resource types do not depend on the code's place."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    for name, resource in template["Resources"].items():
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://packaged-artifacts/{name}"
        if isinstance(resource.get("Properties", {}).get("Code"), str):
            resource["Properties"]["Code"] = {"S3Bucket": "packaged-artifacts", "S3Key": name}
    return expand(template, region)


def write_portfolio(actions: list[str]) -> None:
    text = PORTFOLIO.read_text(encoding="utf-8")
    block = BEGIN + "".join(f"                  - {action}\n" for action in actions) + END
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    PORTFOLIO.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


if __name__ == "__main__":
    write_portfolio(launch_actions(product_from_source()))
    print(f"wrote {PORTFOLIO.relative_to(ROOT)}")
