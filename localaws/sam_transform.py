"""Gap: moto's CloudFormation has no AWS::Serverless-2016-10-31 transform, so the local deploy expands
template.yaml offline with samtranslator, as the SAM service would.

Service Catalog needs the same expansion for another reason: it refuses templates that need
CAPABILITY_AUTO_EXPAND (provisioning fails with "Requires capabilities: [CAPABILITY_AUTO_EXPAND]"),
so scripts/product_template.py ships this expansion as the product. One expansion serves both, so what
the demo deploys is what Service Catalog launches.
"""

from __future__ import annotations

from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

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
