"""Turns a packaged SAM template into the plain CloudFormation template Service Catalog launches.

Service Catalog refuses templates that need CAPABILITY_AUTO_EXPAND, so the SAM transform is
expanded here, offline, with samtranslator. The input must be packaged (`sam package`): every code
location an s3:// URI. Usage:
    python scripts/product_template.py PACKAGED.yaml OUTPUT.json REGION
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

LOCAL_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    # LocateFunction is plain CloudFormation; sam package turns its local Code folder into S3Bucket/S3Key.
    "AWS::Lambda::Function": "Code",
}


class NotPackaged(Exception):
    """A code location is still a local path: run sam package first."""


def check_packaged(template: dict[str, Any]) -> None:
    for name, resource in template.get("Resources", {}).items():
        key = LOCAL_PROPERTIES.get(resource.get("Type", ""))
        location = resource.get("Properties", {}).get(key) if key else None
        if isinstance(location, str) and not location.startswith("s3://"):
            raise NotPackaged(f"{name}.{key} is the local path {location!r}: run sam package first.")


def expand(packaged: dict[str, Any], region: str) -> dict[str, Any]:
    """The template without the SAM transform. samtranslator needs a region to fill in pseudo
    parameters; the output keeps ${AWS::Region} references, so it launches in any region. The
    template names no managed policy, so the translator never needs IAM."""
    check_packaged(packaged)
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    expanded: dict[str, Any] = translator.translate(packaged, parameter_values={}, get_managed_policy_map=dict)
    return expanded


def main(argv: list[str]) -> None:
    source, target, region = Path(argv[0]), Path(argv[1]), argv[2]
    expanded = expand(yaml_parse(source.read_text(encoding="utf-8")), region)
    target.write_text(json.dumps(expanded, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(expanded['Resources'])} resources, no Transform")


if __name__ == "__main__":
    main(sys.argv[1:])
