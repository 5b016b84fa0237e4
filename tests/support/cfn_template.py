"""CloudFormation's Conditions over a parsed template (localaws.templates reads templates), for contract tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


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
