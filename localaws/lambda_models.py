"""Gaps: models moto's CloudFormation lacks for Lambda (localaws.cloudformation_models registers them)."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import lambda_backends
from moto.core.common_models import CloudFormationModel

from localaws import function_policies


class Named:
    """What every gap model below keeps: the physical id CloudFormation's Ref returns. (A plain
    mix-in: moto builds its model map from CloudFormationModel's direct subclasses.)"""

    def __init__(self, physical_id: str) -> None:
        self.physical_id = physical_id

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id


class LambdaResourcePolicy(Named, CloudFormationModel):
    """Gap: moto's CloudFormation has no model for AWS::Lambda::ResourcePolicy, which sets the whole
    resource-based policy of a function or of one of its aliases (localaws.function_policies keeps each
    qualifier's statements apart in moto's one list per function, and evaluates them)."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::ResourcePolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> LambdaResourcePolicy:
        properties = cloudformation_json["Properties"]
        document = properties["PolicyDocument"]
        parsed = json.loads(document) if isinstance(document, str) else document
        found = parsed.get("Statement", [])
        function_policies.set_policy(properties["ResourceArn"], list(found) if isinstance(found, list) else [found])
        return cls(properties["ResourceArn"])

    def delete(self, account_id: str, region_name: str) -> None:
        # A stack's deletion may take the function first: its policy went with it, as in Lambda.
        with suppress(UnknownFunctionException):
            function_policies.set_policy(self.physical_id, [])


class LambdaAlias(Named, CloudFormationModel):
    """Gap: moto's CloudFormation has no model for AWS::Lambda::Alias (its Lambda backend has aliases).
    Ref returns the alias ARN, as CloudFormation's does."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> LambdaAlias:
        properties = cloudformation_json["Properties"]
        alias = lambda_backends[account_id][region_name].create_alias(
            name=properties["Name"],
            function_name=properties["FunctionName"],
            function_version=properties["FunctionVersion"],
            description=properties.get("Description", ""),
            routing_config=properties.get("RoutingConfig"),
        )
        return cls(str(alias.arn))

    def delete(self, account_id: str, region_name: str) -> None:
        function_arn, _, name = self.physical_id.rpartition(":")
        with suppress(UnknownFunctionException):
            lambda_backends[account_id][region_name].delete_alias(name, function_arn)
