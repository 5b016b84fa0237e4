"""Gap: moto's CloudFormation accepts any parameter value. CloudFormation refuses a CreateStack or
UpdateStack whose values break their parameter's AllowedValues, AllowedPattern (which must match the
whole value), MinLength or MaxLength, or, for a Number, MinValue or MaxValue, with a ValidationError that
names the parameter and the constraint; a ConstraintDescription, when the template gives one, takes the
constraint's place in the message (AWS CloudFormation User Guide, "Parameters" template section:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html, where an
AllowedPattern of [A-Za-z0-9]+ gives "Parameter MyParameter must match pattern [A-Za-z0-9]+").

A CommaDelimitedList's constraints apply to each of its values. AWS-specific parameter types
(AWS::EC2::KeyPair::KeyName, SSM parameters) are not checked: the onboarding uses none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from moto.cloudformation.exceptions import ValidationError

from localaws import templates


def validate(template: str, values: Mapping[str, Any]) -> None:
    """Raise CloudFormation's ValidationError for the first value that breaks its parameter's constraints."""
    declared: dict[str, Any] = _parsed(template).get("Parameters") or {}
    for name, value in values.items():
        parameter = declared.get(name)
        if parameter is None or value is None:
            continue
        kind = str(parameter.get("Type", "String"))
        items = str(value).split(",") if kind == "CommaDelimitedList" else [str(value)]
        for item in items:
            broken = _broken_constraint(kind, parameter, item)
            if broken:
                explanation = parameter.get("ConstraintDescription") or broken
                raise ValidationError(message=f"Parameter '{name}' {explanation}")


def _broken_constraint(kind: str, parameter: Mapping[str, Any], value: str) -> str:
    """What the value breaks, in CloudFormation's words, or "" when it satisfies every constraint."""
    allowed = parameter.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        return "must be one of AllowedValues"
    if kind == "Number":
        return _broken_number(parameter, value)
    if "MinLength" in parameter and len(value) < int(parameter["MinLength"]):
        return f"must contain at least {int(parameter['MinLength'])} characters"
    if "MaxLength" in parameter and len(value) > int(parameter["MaxLength"]):
        return f"must contain at most {int(parameter['MaxLength'])} characters"
    pattern = parameter.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), value) is None:
        return f"must match pattern {pattern}"
    return ""


def _broken_number(parameter: Mapping[str, Any], value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return "must be a number"
    if "MinValue" in parameter and number < float(parameter["MinValue"]):
        return f"must be a number not less than {parameter['MinValue']}"
    if "MaxValue" in parameter and number > float(parameter["MaxValue"]):
        return f"must be a number not greater than {parameter['MaxValue']}"
    return ""


def _parsed(template: str) -> dict[str, Any]:
    """The template as CloudFormation reads it: JSON, or YAML with the short-form intrinsics."""
    try:
        parsed: dict[str, Any] = json.loads(template)
    except json.JSONDecodeError:
        parsed = templates.parse(template)
    return parsed
