"""template.yaml's parameters, and the refusal CloudFormation gives a value that breaks their constraints.

One reader for both places that judge a parameter value before CloudFormation would: `expel-onboarding
plan`, and the local AWS's CloudFormation (localaws.parameter_constraints), so that a plan refuses what a
deploy is refused, in the same words.

CloudFormation refuses a CreateStack or UpdateStack whose values break their parameter's AllowedValues,
AllowedPattern (which must match the whole value), MinLength or MaxLength, or, for a Number, MinValue or
MaxValue, with a ValidationError that names the parameter and the constraint; a ConstraintDescription,
when the template gives one, takes the constraint's place in the message. A parameter without a Default
that is given no value is refused with "Parameters: [Name] must have values". (AWS CloudFormation User
Guide, "Parameters" template section syntax:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html)
A CommaDelimitedList's constraints apply to each of its values.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PACKAGED = Path(__file__).with_name("template.yaml")  # a wheel's copy (pyproject.toml force-includes it)
CHECKOUT = Path(__file__).resolve().parents[2] / "template.yaml"  # the repository's, for a checkout


@dataclass(frozen=True)
class Refusal:
    """CloudFormation's message for a value it refuses, and the fix."""

    name: str
    message: str
    fix: str


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that reads the short-form intrinsics (!Ref, !Sub, ...) as plain data: the Parameters
    section holds none, and nothing else of the template is read here."""


def _untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _untagged)


def override(value: str) -> tuple[str, str]:
    """One of sam deploy's --parameter-overrides, Name=Value (argparse's type for it)."""
    name, equals, given = value.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"{value!r} is not Name=Value: write it as sam deploy takes it, Name=Value")
    return name, given


def template_path() -> Path:
    return PACKAGED if PACKAGED.exists() else CHECKOUT


@cache
def declared(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The template's Parameters section: each parameter's declaration, by name."""
    parsed = yaml.load((path or template_path()).read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    return dict(parsed.get("Parameters") or {})


def defaults(parameters: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each parameter's Default as CloudFormation passes it (a string); parameters without one are left out."""
    return {name: str(p["Default"]) for name, p in parameters.items() if "Default" in p}


def refusal(parameters: Mapping[str, Mapping[str, Any]], name: str, value: str | None) -> Refusal | None:
    """CloudFormation's refusal of this value for this parameter, or None when it takes it. value None means
    not given: the Default applies, and a parameter without one is refused."""
    parameter = parameters[name]
    if value is None:
        if "Default" in parameter:
            return None
        return Refusal(name, f"Parameters: [{name}] must have values", f"give it: --parameter-overrides {name}=<value>")
    kind = str(parameter.get("Type", "String"))
    for item in value.split(",") if kind == "CommaDelimitedList" else [value]:
        broken = _broken_constraint(kind, parameter, item)
        if broken:
            message = f"Parameter '{name}' {parameter.get('ConstraintDescription') or broken}"
            return Refusal(name, message, _fix(name, parameter, value))
    return None


def first_refusal(parameters: Mapping[str, Mapping[str, Any]], values: Mapping[str, str]) -> Refusal | None:
    """The first given value CloudFormation would refuse, in the template's order of parameters."""
    for name in parameters:
        if name in values:
            refused = refusal(parameters, name, values[name])
            if refused:
                return refused
    return None


def _fix(name: str, parameter: Mapping[str, Any], value: str) -> str:
    allowed = parameter.get("AllowedValues")
    if allowed is not None:
        return f"set {name} to one of {', '.join(str(a) for a in allowed)} (given: {value!r})."
    return f"pass --parameter-overrides {name}=<a value as described> (given: {value!r})."


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
