"""Gap: moto's CloudFormation accepts any parameter value. CloudFormation refuses a CreateStack or
UpdateStack whose values break their parameter's constraints, with a ValidationError that names the
parameter and the constraint. The rules, and CloudFormation's words, are expel_onboarding_cli's
template_parameters: the same reader `expel-onboarding plan` judges a value with.

AWS-specific parameter types (AWS::EC2::KeyPair::KeyName, SSM parameters) are not checked: the
onboarding uses none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from moto.cloudformation.exceptions import ValidationError

from expel_onboarding_cli import template_parameters
from localaws import templates


def validate(template: str, values: Mapping[str, Any]) -> None:
    """Raise CloudFormation's ValidationError for the first value that breaks its parameter's constraints."""
    declared: dict[str, Any] = _parsed(template).get("Parameters") or {}
    given = {name: str(value) for name, value in values.items() if name in declared and value is not None}
    refused = template_parameters.first_refusal(declared, given)
    if refused:
        raise ValidationError(message=refused.message)


def _parsed(template: str) -> dict[str, Any]:
    """The template as CloudFormation reads it: JSON, or YAML with the short-form intrinsics."""
    try:
        parsed: dict[str, Any] = json.loads(template)
    except json.JSONDecodeError:
        parsed = templates.parse(template)
    return parsed
