"""The requirements of Expel's Control Tower guide as checks over a parsed template.

Each check returns the violations it found, so the same check proves the real template right and a
mutated template wrong (see test_contract_catches_mutations.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib.util import find_spec
from itertools import product
from pathlib import Path
from typing import Any

from tests.support.cfn_template import evaluate_conditions, resolve_conditions

GUIDE_PERMISSIONS_FILE = Path(__file__).with_name("guide_permissions.txt")

# The guide's table lists these four among the read-only ones; we scope each to its own resource.
SCOPED_GUIDE_ACTIONS = frozenset({"s3:GetObject", "sqs:ReceiveMessage", "sqs:DeleteMessage", "kms:Decrypt"})

# The guide's step 5, exactly.
GUIDE_QUEUE_SETTINGS: dict[str, int] = {
    "VisibilityTimeout": 30,
    "MessageRetentionPeriod": 7 * 24 * 3600,
    "DelaySeconds": 0,
    "MaximumMessageSize": 256 * 1024,
    "ReceiveMessageWaitTimeSeconds": 0,
}

Template = dict[str, Any]
Statement = dict[str, Any]


def guide_permissions() -> list[str]:
    """The permission table of Expel's Control Tower guide, one action a line, in the guide's order."""
    lines = GUIDE_PERMISSIONS_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def guide_read_only_permissions() -> frozenset[str]:
    return frozenset(guide_permissions()) - SCOPED_GUIDE_ACTIONS


@cache
def _service_authorization() -> dict[str, Any]:
    """cfn-lint's copy of the IAM Service Authorization Reference: each action's resource types."""
    # Found without importing cfnlint, which takes a second: only the data file is read.
    spec = find_spec("cfnlint")
    assert spec is not None, "cfn-lint is not installed"
    assert spec.submodule_search_locations, "cfnlint is not a package"
    folder = Path(next(iter(spec.submodule_search_locations)))
    data: dict[str, Any] = json.loads((folder / "data/AdditionalSpecs/Policies.json").read_text(encoding="utf-8"))
    return data


def has_resource_types(action: str) -> bool:
    """Whether IAM can scope the action to a resource; if not, "*" is its only valid Resource."""
    if ":" not in action:
        return True
    service, name = action.split(":", 1)
    actions = _service_authorization()[service]["Actions"]
    return bool(actions[name.lower()].get("Resources")) if "*" not in name else True


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == resource_type}


def condition_combinations(template: Template) -> Iterator[dict[str, bool]]:
    """The Conditions of every deployable shape: each parameter a condition reads, at its default
    and at one other value."""
    referenced = sorted(set(re.findall(r"'Ref': '(\w+)'", repr(template.get("Conditions", {})))))
    choices = []
    for name in referenced:
        parameter = template["Parameters"][name]
        default = parameter.get("Default", "")
        others = [v for v in parameter.get("AllowedValues", []) if v != default] or [f"given-{name}"]
        choices.append([default, others[0]])
    for values in product(*choices):
        yield evaluate_conditions(template, dict(zip(referenced, values, strict=True)))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


POLICY_HOLDERS = {
    "AWS::KMS::Key",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
    "AWS::IAM::Role",
}


def policy_documents(template: Template) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(logical id, kind, document) for every policy document in the template."""
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::KMS::Key":
            yield name, "key-policy", props["KeyPolicy"]
        elif kind in {"AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"}:
            yield name, "resource-policy", props["PolicyDocument"]
        elif kind in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"}:
            yield name, "identity-policy", props["PolicyDocument"]
        elif kind in {"AWS::Serverless::Function", "AWS::Serverless::StateMachine"}:
            for inline in props.get("Policies", []):
                if isinstance(inline, dict) and "Statement" in inline:
                    yield name, "identity-policy", inline
        elif kind == "AWS::IAM::Role":
            yield name, "trust-policy", props["AssumeRolePolicyDocument"]
            for inline in props.get("Policies", []):
                yield name, "identity-policy", inline["PolicyDocument"]


def statements(template: Template) -> Iterator[tuple[str, str, Statement]]:
    """Every statement of every policy, under every combination of conditions."""
    seen: set[str] = set()
    combinations = list(condition_combinations(template))
    for name, resource in template["Resources"].items():
        if resource["Type"] not in POLICY_HOLDERS:
            continue
        # Each resource under each combination of only the conditions it reads: resolving every
        # resource under all 64 combinations was most of this check's time.
        used = sorted(set(re.findall(r"'Fn::If': \['(\w+)'", repr(resource))))
        for values in dict.fromkeys(tuple(combination[c] for c in used) for combination in combinations):
            resolved = resolve_conditions({"Resources": {name: resource}}, dict(zip(used, values, strict=True)))
            for _, kind, document in policy_documents(resolved):
                for statement in as_list(document["Statement"]):
                    key = f"{name}:{statement!r}"
                    if key not in seen:
                        seen.add(key)
                        yield name, kind, statement


def queue_violations(template: Template) -> list[str]:
    """The guide's settings on Workbench's queue: the one our topic delivers to (the relay's queues are internal)."""
    queues = resources_of_type(template, "AWS::SQS::Queue")
    endpoints = [
        resource["Properties"]["Endpoint"]
        for resource in resources_of_type(template, "AWS::SNS::Subscription").values()
        if resource["Properties"].get("TopicArn") == {"Ref": "NotificationTopic"}
    ]
    names = [endpoint["Fn::GetAtt"][0] for endpoint in endpoints if "Fn::GetAtt" in endpoint]
    if len(names) != 1 or names[0] not in queues:
        return [f"expected one SQS queue subscribed to NotificationTopic, found {names}"]
    name = names[0]
    props = queues[name]["Properties"]
    found = []
    if props.get("FifoQueue") not in (None, False, "false"):
        found.append(f"{name} must be a standard queue, FifoQueue is {props['FifoQueue']!r}")
    for setting, expected in GUIDE_QUEUE_SETTINGS.items():
        if props.get(setting) != expected:
            found.append(f"{name}.{setting} is {props.get(setting)!r}, the guide says {expected}")
    if props.get("KmsMasterKeyId") != {"Fn::GetAtt": ["NotificationKey", "Arn"]}:
        found.append(f"{name} must use SSE-KMS with NotificationKey, found {props.get('KmsMasterKeyId')!r}")
    return found


def subscription_violations(template: Template) -> list[str]:
    subscriptions = {
        name: resource
        for name, resource in resources_of_type(template, "AWS::SNS::Subscription").items()
        if resource["Properties"].get("TopicArn") == {"Ref": "NotificationTopic"}
    }
    if len(subscriptions) != 1:
        return [f"expected one subscription to NotificationTopic, found {sorted(subscriptions)}"]
    ((name, subscription),) = subscriptions.items()
    props = subscription["Properties"]
    expected = {
        "Protocol": "sqs",
        "Endpoint": {"Fn::GetAtt": ["NotificationQueue", "Arn"]},
        "TopicArn": {"Ref": "NotificationTopic"},
    }
    found = [
        f"{name}.{key} is {props.get(key)!r}, expected {value!r}"
        for key, value in expected.items()
        if props.get(key) != value
    ]
    if props.get("RawMessageDelivery") not in (True, "true"):
        found.append(
            f"{name}.RawMessageDelivery must be true (the guide's step 6), found {props.get('RawMessageDelivery')!r}"
        )
    return found


def expel_policy_statements(template: Template, conditions: dict[str, bool]) -> list[Statement]:
    policy = resolve_conditions(template["Resources"]["ExpelPolicy"], conditions)["Properties"]["PolicyDocument"]
    return as_list(policy["Statement"])


def permission_violations(template: Template) -> list[str]:
    guide = guide_permissions()
    found = []
    for conditions in condition_combinations(template):
        granted: list[str] = []
        for statement in expel_policy_statements(template, conditions):
            actions = as_list(statement["Action"])
            granted.extend(actions)
            if statement.get("Resource") == "*" and not set(actions) <= guide_read_only_permissions():
                found.append(
                    f"{statement.get('Sid')} grants {sorted(set(actions) - guide_read_only_permissions())} on '*'"
                )
        missing = sorted(set(guide) - set(granted))
        extra = sorted(set(granted) - set(guide))
        if missing or extra:
            found.append(f"with {conditions}: missing {missing}, not in the guide {extra}")
    return found


def service_grant_violations(template: Template) -> list[str]:
    found = []
    for name, _, statement in statements(template):
        principal = statement.get("Principal")
        if statement["Effect"] != "Allow" or not isinstance(principal, dict) or "Service" not in principal:
            continue
        # A function's execution role: Lambda documents no source conditions for it; who may attach
        # the role to a function is iam:PassRole's to decide.
        if principal["Service"] == "lambda.amazonaws.com" and statement.get("Action") == "sts:AssumeRole":
            continue
        condition_keys = {key for block in statement.get("Condition", {}).values() for key in block}
        for required in ("aws:SourceArn", "aws:SourceAccount"):
            if required not in condition_keys:
                found.append(f"{name}/{statement.get('Sid')} grants {principal['Service']} without {required}")
    return found


def wildcard_violations(template: Template) -> list[str]:
    read_only = guide_read_only_permissions()
    found = []
    for name, kind, statement in statements(template):
        sid = statement.get("Sid")
        # A Deny with NotResource narrows (it refuses everything but the named resources); an Allow with
        # NotResource, or any NotAction, widens past what a reader sees.
        if "NotAction" in statement or ("NotResource" in statement and statement["Effect"] != "Deny"):
            found.append(f"{name}/{sid} uses NotAction, or NotResource in an Allow")
        actions = as_list(statement.get("Action", []))
        if "*" in actions:
            found.append(f"{name}/{sid} allows Action '*'")
        # In a key policy "*" means "this key": it is the only Resource a key policy accepts.
        resource_star = "*" in as_list(statement.get("Resource", []))
        allows = statement["Effect"] == "Allow"
        scopable = {action for action in actions if action not in read_only and has_resource_types(action)}
        if resource_star and allows and kind != "key-policy" and scopable:
            found.append(f"{name}/{sid} puts {sorted(scopable)} on Resource '*'")
    return found


def _denies_insecure_transport(statement: Statement) -> bool:
    secure_transport = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    return (
        statement["Effect"] == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and secure_transport in ("false", False)
    )


def tls_violations(template: Template) -> list[str]:
    found = []
    for name, kind, document in policy_documents(template):
        if kind == "resource-policy" and not any(
            _denies_insecure_transport(statement) for statement in as_list(document["Statement"])
        ):
            found.append(f"{name} does not deny requests without TLS (aws:SecureTransport false)")
    return found


# --- Each function writes only to its own log group ------------------------------------------------
LOG_WRITES = frozenset({"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"})
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def own_log_group(group: str) -> list[Any]:
    """A log group's ARNs as a policy names them: its Arn attribute (which ends in :*, its streams) and
    the group itself."""
    return [
        {"Fn::GetAtt": [group, "Arn"]},
        {"Fn::Sub": f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{group}}}"},
    ]


def _statements_in(documents: list[Any]) -> list[Statement]:
    found: list[Statement] = []
    for document in documents:
        if isinstance(document, dict) and "Statement" in document:
            found += [s for s in as_list(document["Statement"]) if isinstance(s, dict) and "Effect" in s]
    return found


def _log_writes_allowed_elsewhere(statements: list[Statement], group: str) -> list[str]:
    return [
        str(statement.get("Sid"))
        for statement in statements
        if statement["Effect"] == "Allow"
        and LOG_WRITES & set(as_list(statement.get("Action", [])))
        and not all(resource in own_log_group(group) for resource in as_list(statement.get("Resource", [])))
    ]


def log_scope_violations(template: Template) -> list[str]:
    """Every function logs to a log group of its own and may write to no other.

    A SAM function's role gets AWSLambdaBasicExecutionRole, which allows the log writes on every group;
    a Deny with NotResource on its own group takes the rest away (an explicit Deny beats any Allow, IAM
    user guide, "Policy evaluation logic"). A plain function's role must name its group itself."""
    found: list[str] = []
    groups: dict[str, str] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] not in FUNCTION_TYPES:
            continue
        props = resource["Properties"]
        reference = props.get("LoggingConfig", {}).get("LogGroup", {})
        group = reference.get("Ref", "") if isinstance(reference, dict) else ""
        if template["Resources"].get(group, {}).get("Type") != "AWS::Logs::LogGroup":
            found.append(f"{name} logs to {reference!r}, not to a log group of this template")
            continue
        if group in groups:
            found.append(f"{name} shares the log group {group} with {groups[group]}")
        groups[group] = name
        if resource["Type"] == "AWS::Serverless::Function":
            statements = _statements_in(props.get("Policies", []))
            denies = [
                s
                for s in statements
                if s["Effect"] == "Deny"
                and set(as_list(s.get("Action", []))) >= LOG_WRITES
                and s.get("NotResource") == own_log_group(group)
                and "Condition" not in s
            ]
            if not denies:
                found.append(f"{name} may write to any log group: no Deny of {sorted(LOG_WRITES)} outside {group}")
        else:
            role = props.get("Role", {}).get("Fn::GetAtt", [""])[0]
            role_props = template["Resources"].get(role, {}).get("Properties", {})
            if role_props.get("ManagedPolicyArns"):
                found.append(f"{name}'s role {role} has managed policies, which may allow logs on other groups")
            statements = _statements_in([policy.get("PolicyDocument") for policy in role_props.get("Policies", [])])
        for sid in _log_writes_allowed_elsewhere(statements, group):
            found.append(f"{name}/{sid} allows log writes outside {group}")
    return found
