"""The part of IAM's policy language the local AWS evaluates: statements, IAM's wildcards, and the
condition operators the onboarding's policies use (IAM User Guide, "IAM JSON policy elements: Condition
operators": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

Used by the emulated service control policies (localaws.controls) and role trust (localaws.trust_policies).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: tuple[str, ...]  # "Service:<name>" or an AWS principal; "*" for anyone
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key, values)


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def principals(value: Any) -> tuple[str, ...]:
    """A statement's Principal as a flat tuple: AWS principals as they are, services as Service:<name>."""
    if value is None:
        return ()
    if value == "*":
        return ("*",)
    found: list[str] = []
    for kind, names in value.items():
        found.extend(name if kind == "AWS" else f"{kind}:{name}" for name in _listed(names))
    return tuple(found)


@lru_cache(maxsize=256)
def statements(content: str, effect: str) -> tuple[Statement, ...]:
    """The statements of a policy document with the given Effect (parsed once per distinct text)."""
    document = json.loads(content)
    found = document.get("Statement", [])
    return tuple(
        Statement(
            sid=str(statement.get("Sid", "")),
            actions=_listed(statement.get("Action")),
            not_actions=_listed(statement.get("NotAction")),
            resources=_listed(statement.get("Resource")),
            not_resources=_listed(statement.get("NotResource")),
            principals=principals(statement.get("Principal")),
            conditions=tuple(
                (operator, key, _listed(values))
                for operator, keys in statement.get("Condition", {}).items()
                for key, values in keys.items()
            ),
        )
        for statement in ([found] if isinstance(found, dict) else found)
        if statement.get("Effect") == effect
    )


@lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """IAM's ArnLike: each of the six colon-separated components is matched on its own, with * and ?."""
    if pattern == "*":
        return True
    patterns, values = pattern.split(":", 5), value.split(":", 5)
    return len(patterns) == len(values) and all(like(p, v) for p, v in zip(patterns, values, strict=True))


def action_matches(statement: Statement, action: str) -> bool:
    if statement.actions:
        return any(like(pattern, action, ignore_case=True) for pattern in statement.actions)
    return not any(like(pattern, action, ignore_case=True) for pattern in statement.not_actions)


def resource_matches(statement: Statement, resource: str) -> bool:
    if statement.resources:
        return any(arn_like(pattern, resource) for pattern in statement.resources)
    return not any(arn_like(pattern, resource) for pattern in statement.not_resources)


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "stringequals": lambda pattern, value: pattern == value,
    "stringlike": like,
    "arnequals": lambda pattern, value: pattern == value,
    "arnlike": arn_like,
    "bool": lambda pattern, value: pattern.lower() == value.lower(),
}


def condition_holds(
    operator: str, key: str, values: tuple[str, ...], context: Mapping[str, str | tuple[str, ...]]
) -> bool:
    name = operator.lower()
    qualifier, _, name = name.rpartition(":")
    found = context.get(key.lower())
    if qualifier:
        # A multivalued key (IAM user guide, "Set operators for multivalued context keys"): ForAllValues holds
        # when every value passes, and so for an absent key; ForAnyValue when one does, and so never for one.
        members = (found,) if isinstance(found, str) else (found or ())
        passes = [condition_holds(name, key, values, {key.lower(): member}) for member in members]
        return all(passes) if qualifier == "forallvalues" else any(passes)
    if_exists = name.endswith("ifexists")
    name = name.removesuffix("ifexists")
    negated = "not" in name
    test = _OPERATORS.get(name.replace("not", ""))
    if test is None:
        return False  # an operator we do not emulate never holds: a Deny does not apply, an Allow grants nothing
    value = found if isinstance(found, str) else None
    if value is None:
        # IAM: a key absent from the request fails a positive test, passes a negated or IfExists one.
        return if_exists or negated
    matched = any(test(pattern, value) for pattern in values)
    return not matched if negated else matched


def applies(
    statement: Statement, action: str, resource: str, context: Callable[[], Mapping[str, str | tuple[str, ...]]]
) -> bool:
    if not action_matches(statement, action) or not resource_matches(statement, resource):
        return False
    if not statement.conditions:
        return True
    keys = context()
    return all(condition_holds(operator, key, values, keys) for operator, key, values in statement.conditions)


def principal_matches(statement: Statement, principal_arn: str, account: str) -> bool:
    """Whether a statement's Principal names the caller (IAM User Guide, "AWS JSON policy elements:
    Principal": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
    "*"; the caller's own ARN (a role session matches as its role); or its account, as an id or as
    arn:<partition>:iam::<account>:root, which trusts every principal of that account."""
    for named in statement.principals:
        if named in ("*", principal_arn, account):
            return True
        if named.startswith("arn:") and named.endswith(f":iam::{account}:root"):
            return True
    return False
