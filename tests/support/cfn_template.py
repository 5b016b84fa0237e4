"""Reads CloudFormation YAML (short-form intrinsics included) into plain dicts, for contract tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]

_SCALAR_OR_LIST_TAGS = (
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "Sub",
)


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that knows CloudFormation's short-form tags."""


def _construct(node: yaml.Node, loader: _CfnLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _add_fn(tag: str) -> None:
    def construct(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{tag}": _construct(node, loader)}

    _CfnLoader.add_constructor(f"!{tag}", construct)


for _tag in _SCALAR_OR_LIST_TAGS:
    _add_fn(_tag)


def _ref(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _construct(node, loader)}


def _condition(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _construct(node, loader)}


def _get_att(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(node, loader)
    return {"Fn::GetAtt": value.split(".", 1) if isinstance(value, str) else value}


_CfnLoader.add_constructor("!Ref", _ref)
_CfnLoader.add_constructor("!Condition", _condition)
_CfnLoader.add_constructor("!GetAtt", _get_att)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation or SAM template file."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(document, dict), f"{path} is not a template"
    return document


def resolve_conditions(node: Any, conditions: dict[str, bool]) -> Any:
    """Evaluate Fn::If with the given condition values and drop AWS::NoValue, as CloudFormation does."""
    if isinstance(node, list):
        resolved = [resolve_conditions(item, conditions) for item in node]
        return [item for item in resolved if item != {"Ref": "AWS::NoValue"}]
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, when_true, when_false = node["Fn::If"]
            return resolve_conditions(when_true if conditions[name] else when_false, conditions)
        resolved_items = {key: resolve_conditions(value, conditions) for key, value in node.items()}
        return {key: value for key, value in resolved_items.items() if value != {"Ref": "AWS::NoValue"}}
    return node


def evaluate_conditions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, bool]:
    """The template's Conditions for the given parameter values, as CloudFormation evaluates them."""

    def value(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Ref"}:
            name = node["Ref"]
            return parameters.get(name, template["Parameters"].get(name, {}).get("Default"))
        if isinstance(node, dict) and set(node) == {"Condition"}:
            return truth(template["Conditions"][node["Condition"]])
        return node

    def truth(node: dict[str, Any]) -> bool:
        ((function, args),) = node.items()
        if function == "Fn::Equals":
            return bool(value(args[0]) == value(args[1]))
        if function == "Fn::Not":
            return not truth(args[0])
        if function == "Fn::And":
            return all(truth(arg) if "Condition" not in arg else value(arg) for arg in args)
        if function == "Fn::Or":
            return any(truth(arg) if "Condition" not in arg else value(arg) for arg in args)
        raise ValueError(f"unsupported condition function {function}")

    return {name: truth(node) for name, node in template.get("Conditions", {}).items()}
