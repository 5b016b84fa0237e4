"""Parliament, the IAM policy linter, on every policy document of every template (`make iam-analysis`).

It runs in .venv-tools/parliament, which holds parliament and its pins only (PyYAML comes with it),
so it imports nothing from the project. For each template it:

- loads the YAML with CloudFormation's short tags (!Ref, !Sub, ...) turned into their long forms;
- finds every policy document (any mapping with a Statement) in every resource's Properties: IAM role
  inline policies and trust policies, IAM policies, SAM function and state machine policies, topic,
  queue and bucket policies, key policies, and the templates StackSets embed in TemplateBody;
- resolves the intrinsics to plausible concrete values (PSEUDO, PLACEHOLDERS, attributes(), CUSTOM_ATTRIBUTES), once for
  each way the template's conditions can select its Fn::If branches, so every branch is analysed;
- runs parliament, with its community auditors, on each resolved document.

Every finding must be justified in scripts/iam_analysis_justified.yaml, keyed by template, resource
logical id, statement Sid and finding code (see that file's header). The run fails on a finding
that is not, and on a justification that matches no finding.

Not analysed, and said so in the summary: SAM policy templates (such as LambdaInvokePolicy) and
managed policy names or ARNs in a SAM Policies list, since their documents live outside the template.
Trust policies have no Resource element, which parliament requires, so each trust statement is
analysed with the role's own ARN as its Resource (what a trust policy governs).
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ("template.yaml", "org/management.yaml", "org/member-role.yaml", "servicecatalog/portfolio.yaml")
JUSTIFIED = ROOT / "scripts" / "iam_analysis_justified.yaml"

STACK = "expel-cloudtrail-onboarding"
PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
OTHER_ACCOUNT = "111122223333"  # a parameter's account, such as the management account's key
PSEUDO: dict[str, Any] = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": STACK,
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0a1b2c3d-4e5f-6789-abcd-ef01",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}

# A parameter with no non-empty Default gets a realistic value by the end of its name; the first match wins.
PLACEHOLDERS: tuple[tuple[str, str], ...] = (
    ("KeyArn", f"arn:{PARTITION}:kms:{REGION}:{OTHER_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("DelegateArn", f"arn:{PARTITION}:lambda:{REGION}:{OTHER_ACCOUNT}:function:expel-org-KeyPolicyDelegate"),
    ("RoleArn", f"arn:{PARTITION}:iam::{OTHER_ACCOUNT}:role/ExampleRole"),
    ("PrincipalArn", f"arn:{PARTITION}:iam::{ACCOUNT}:role/SecurityAdmin"),
    ("AccountId", OTHER_ACCOUNT),
    ("ExternalId", "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b"),
    ("RootId", "r-a1b2"),
    ("OrganizationId", "o-a1b2c3d4e5"),
    ("OuIds", "ou-a1b2-c3d4e5f6"),
    ("Email", "secops@example.com"),
    ("Url", "https://s3.us-east-1.amazonaws.com/example-bucket/product.template.json"),
    ("Name", "ExampleName"),
)

# What a custom resource returns, by type and attribute (Custom::LogTarget: expel_onboarding.discovery).
# trail-topic mode on landing zone 4.0: CloudTrail's topic, in this (Log Archive) account.
MANAGEMENT = "999988887777"
TRAIL = f"arn:{PARTITION}:cloudtrail:{REGION}:{MANAGEMENT}:trail/aws-controltower-BaselineCloudTrail"
TRAIL_TOPIC = f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:aws-controltower-CentralizedLoggingNotifications"
CUSTOM_ATTRIBUTES: dict[tuple[str, str], str] = {
    ("Custom::LogTarget", "Bucket"): f"aws-controltower-logs-{ACCOUNT}-{REGION}",
    ("Custom::LogTarget", "TrailArn"): TRAIL,
    ("Custom::LogTarget", "TopicArn"): TRAIL_TOPIC,
    ("Custom::LogTarget", "RelaySourceArn"): TRAIL_TOPIC,
    ("Custom::LogTarget", "RelaySourceAccount"): ACCOUNT,
    ("Custom::LogTarget", "HomeRegion"): REGION,
    ("Custom::LogTarget", "ManagementAccountId"): MANAGEMENT,
    ("Custom::LogTarget", "DeliveryMode"): "trail-topic",
    ("Custom::LogTarget", "Reason"): "the organization trail publishes to an SNS topic",
    ("Custom::Onboarding", "RoleArn"): f"arn:{PARTITION}:iam::{ACCOUNT}:role/ExpelTrailAssumeRole",
}
NAME_PROPERTIES = (
    "RoleName",
    "TopicName",
    "QueueName",
    "LogGroupName",
    "FunctionName",
    "StateMachineName",
    "BucketName",
)
FUNCTIONS = ("AWS::Serverless::Function", "AWS::Lambda::Function")
STATE_MACHINES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")


class AnalysisError(Exception):
    """A template this script cannot resolve: say what to add, rather than guess."""


NO_VALUE = object()  # AWS::NoValue: dropped from the list or mapping that holds it


# --- Loading -------------------------------------------------------------------------------------
class CfnLoader(yaml.CSafeLoader):
    """YAML with CloudFormation's short tags, each turned into its long form ({"Fn::Sub": ...})."""


def _short_tag(loader: yaml.CSafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _short_tag)


def load(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a CSafeLoader
    return loaded


# --- Resolving -----------------------------------------------------------------------------------
def placeholder(name: str, spec: dict[str, Any]) -> Any:
    default = spec.get("Default")
    if default not in (None, ""):
        value: Any = str(default)
    else:
        value = next((v for suffix, v in PLACEHOLDERS if name.endswith(suffix)), None)
        if value is None:
            raise AnalysisError(f"parameter {name} has no Default: add a value for its name to PLACEHOLDERS")
    return value.split(",") if spec.get("Type") == "CommaDelimitedList" else value


@dataclass
class Template:
    name: str
    body: dict[str, Any]

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Parameters") or {}

    @property
    def conditions(self) -> dict[str, Any]:
        return self.body.get("Conditions") or {}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Resources") or {}


def attributes(kind: str, name: str, path: str) -> dict[str, str]:
    """A resource's Fn::GetAtt values, from its physical name (and an IAM role's Path)."""

    def arn(service: str, rest: str) -> str:
        return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{rest}"

    key_id = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    queue_url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
    by_kind: dict[str, dict[str, str]] = {
        "AWS::IAM::Role": {"Arn": f"arn:{PARTITION}:iam::{ACCOUNT}:role{path}{name}", "RoleId": "AROAEXAMPLE"},
        "AWS::IAM::ManagedPolicy": {"Arn": f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{name}"},
        "AWS::Logs::LogGroup": {"Arn": arn("logs", f"log-group:{name}:*")},
        "AWS::KMS::Key": {"Arn": arn("kms", f"key/{key_id}"), "KeyId": key_id},
        "AWS::SQS::Queue": {"Arn": arn("sqs", name), "QueueName": name, "QueueUrl": queue_url},
        "AWS::SNS::Topic": {"TopicArn": arn("sns", name), "TopicName": name},
        "AWS::S3::Bucket": {"Arn": f"arn:{PARTITION}:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"},
    }
    by_kind |= {key: {"Arn": arn("lambda", f"function:{name}")} for key in FUNCTIONS}
    by_kind |= {key: {"Arn": arn("states", f"stateMachine:{name}"), "Name": name} for key in STATE_MACHINES}
    return by_kind.get(kind, {})


@dataclass
class Resolver:
    """Intrinsics to concrete values, for one choice of parameter values."""

    template: Template
    values: dict[str, Any]
    _conditions: dict[str, bool] = field(default_factory=dict)

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self.template.conditions:
                raise AnalysisError(f"{self.template.name}: unknown condition {name}")
            self._conditions[name] = bool(self.resolve(self.template.conditions[name]))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.values:
            return self.values[name]
        if name in self.template.parameters:
            return placeholder(name, self.template.parameters[name])
        kind, _ = self._resource(name)
        if kind in ("AWS::SNS::Topic", *STATE_MACHINES, "AWS::IAM::ManagedPolicy"):
            return self.get_att(name, {"AWS::SNS::Topic": "TopicArn"}.get(kind, "Arn"))
        if kind == "AWS::SQS::Queue":
            return self.get_att(name, "QueueUrl")
        if kind == "AWS::KMS::Key":
            return self.get_att(name, "KeyId")
        if kind == "AWS::Lambda::Alias":
            # An alias's Ref is its ARN: the function's, qualified by the alias name.
            _, props = self._resource(name)
            function = str(self.resolve(props["FunctionName"])).split(":")[-1]
            return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{function}:{self.resolve(props['Name'])}"
        return self.physical_name(name)

    def _resource(self, logical_id: str) -> tuple[str, dict[str, Any]]:
        function = self.template.resources.get(logical_id.removesuffix("Role"), {})
        if logical_id not in self.template.resources and function.get("Type") == "AWS::Serverless::Function":
            # The execution role SAM makes for a function that names none: <Function>Role, under its RolePath.
            properties = function.get("Properties") or {}
            if "Role" not in properties:
                return "AWS::IAM::Role", {"Path": properties.get("RolePath", "/")}
        if logical_id not in self.template.resources:
            raise AnalysisError(f"{self.template.name}: Ref or GetAtt names unknown resource {logical_id}")
        resource = self.template.resources[logical_id]
        return resource["Type"], resource.get("Properties") or {}

    def physical_name(self, logical_id: str) -> str:
        _, props = self._resource(logical_id)
        for key in NAME_PROPERTIES:
            if key in props:
                return str(self.resolve(props[key]))
        return f"{STACK}-{logical_id}-1A2B3C4D5E6F"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        kind, props = self._resource(logical_id)
        if (kind, attribute) in CUSTOM_ATTRIBUTES:
            return CUSTOM_ATTRIBUTES[(kind, attribute)]
        path = str(self.resolve(props.get("Path", "/")))
        values = attributes(kind, self.physical_name(logical_id), path)
        if attribute not in values:
            raise AnalysisError(f"{self.template.name}: no value for !GetAtt {logical_id}.{attribute} ({kind})")
        return values[attribute]

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::GetAtt":
                return self.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1)))
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self.sub(text, variables)
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return left == right
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(arg))
            if key == "Fn::Or":
                return any(self.resolve(arg))
            if key.startswith("Fn::"):
                raise AnalysisError(f"{self.template.name}: {key} is not resolved here: add it to Resolver.resolve")
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not NO_VALUE}


# --- Finding the documents -----------------------------------------------------------------------
@dataclass(frozen=True)
class Document:
    template: Template
    resource: str
    label: str  # the PolicyName, else the property path (KeyPolicy, Policies[2])
    raw: dict[str, Any]
    guards: tuple[tuple[str, bool], ...]  # the Fn::If branches on the way to the document
    trust: bool


def documents(template: Template, skipped: list[str]) -> Iterator[Document]:
    for logical_id, resource in template.resources.items():
        kind = resource.get("Type", "")
        props = resource.get("Properties") or {}
        if kind == "AWS::CloudFormation::StackSet" and isinstance(props.get("TemplateBody"), str):
            # The member template the StackSet deploys in every account, analysed where it is embedded.
            nested = Template(f"{template.name}#{logical_id}", load(props["TemplateBody"]))
            yield from documents(nested, skipped)
            continue
        if kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            for item in _as_list(props.get("Policies")):
                # SAM policy templates and managed policies are documents outside the template.
                if isinstance(item, str) or (isinstance(item, dict) and "Statement" not in item):
                    what = item if isinstance(item, str) else next(iter(item))
                    skipped.append(f"{template.name} {logical_id}: {what}")
        for path, raw, guards in _walk(props, (), ()):
            name = _policy_name(props, path)
            yield Document(template, logical_id, name, raw, guards, path[-1:] == ("AssumeRolePolicyDocument",))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _walk(node: Any, path: tuple[Any, ...], guards: tuple[tuple[str, bool], ...]) -> Iterator[Any]:
    if isinstance(node, dict):
        if "Statement" in node:
            yield path, node, guards
            return
        if len(node) == 1 and "Fn::If" in node:
            condition, yes, no = node["Fn::If"]
            yield from _walk(yes, path, (*guards, (condition, True)))
            yield from _walk(no, path, (*guards, (condition, False)))
            return
        for key, value in node.items():
            yield from _walk(value, (*path, key), guards)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index), guards)


def _policy_name(props: dict[str, Any], path: tuple[Any, ...]) -> str:
    if len(path) >= 2 and path[0] == "Policies" and isinstance(path[1], int):
        item = props["Policies"][path[1]]
        if isinstance(item, dict) and isinstance(item.get("PolicyName"), str):
            return str(item["PolicyName"])
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


# --- The ways the conditions can go --------------------------------------------------------------
def _find(node: Any, key: str) -> Iterator[Any]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _find(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _find(v, key)


def scenarios(document: Document) -> list[dict[str, Any]]:
    """Parameter values, one set for each way the document's conditions can go (the first: defaults)."""
    template = document.template
    condition_of_resource = template.resources[document.resource].get("Condition")
    pending = {g for g, _ in document.guards} | {arg[0] for arg in _find(document.raw, "Fn::If")}
    pending |= {condition_of_resource} if condition_of_resource else set()
    conditions: set[str] = set()
    while pending:
        name = pending.pop()
        conditions.add(name)
        pending |= set(_find(template.conditions.get(name), "Condition")) - conditions
    expressions = [template.conditions.get(name) for name in sorted(conditions)]
    parameters = sorted({r for r in _find(expressions, "Ref") if r in template.parameters})
    candidates = []
    for name in parameters:
        spec = template.parameters[name]
        literals = [
            side
            for equals in _find(expressions, "Fn::Equals")
            if any(r == name for r in _find(equals, "Ref"))
            for side in equals
            if isinstance(side, str)
        ]
        values = [placeholder(name, spec), *map(str, spec.get("AllowedValues", [])), *literals]
        if spec.get("Type") == "CommaDelimitedList":
            values = [v if isinstance(v, list) else v.split(",") for v in values]
        candidates.append([v for i, v in enumerate(values) if v not in values[:i]])
    found: dict[tuple[bool, ...], dict[str, Any]] = {}
    for combination in itertools.product(*candidates):
        chosen = dict(zip(parameters, combination, strict=True))
        resolver = Resolver(template, chosen)
        if condition_of_resource and not resolver.condition(condition_of_resource):
            continue
        if any(resolver.condition(g) != want for g, want in document.guards):
            continue
        found.setdefault(tuple(resolver.condition(c) for c in sorted(conditions)), chosen)
    return list(found.values())


# --- Analysing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    template: str
    resource: str
    statement: str  # the Sid, else Statement[i]; a whole-document finding: the document's label
    code: str
    detail: str
    where: str  # the document, and the parameter values when they matter

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.template, self.resource, self.statement, self.code


def resolved_statements(document: Document, resolver: Resolver) -> list[tuple[str, dict[str, Any]]]:
    """(label, statement) for each statement this variant keeps, labelled by Sid or by its place as written."""
    raw = document.raw["Statement"]
    out = []
    for index, item in enumerate(raw if isinstance(raw, list) else [raw]):
        statement = resolver.resolve(item)
        if statement is NO_VALUE:
            continue
        if document.trust and "Resource" not in statement and "NotResource" not in statement:
            # What a trust policy governs is the role itself.
            role = resolver.get_att(document.resource, "Arn")
            statement = {**statement, "Resource": role}
        out.append((str(statement.get("Sid", f"Statement[{index}]")), statement))
    return out


def render(detail: Any, location: dict[str, Any]) -> str:
    if isinstance(detail, list) and detail and isinstance(detail[0], dict) and "action" in detail[0]:
        formats: dict[str, list[str]] = {}
        for item in detail:
            formats.setdefault(item["required_format"], []).append(item["action"])
        return "; ".join(f"{', '.join(actions)} need {fmt}" for fmt, actions in formats.items())
    if isinstance(detail, list):
        return _shorten(detail)
    if detail:
        return str(detail)
    extra = {k: v for k, v in location.items() if k not in ("filepath", "line", "column")}
    return "; ".join(f"{k}: {_shorten(v) if isinstance(v, list) else v}" for k, v in sorted(extra.items()))


def _shorten(items: list[Any], most: int = 8) -> str:
    text = ", ".join(map(str, sorted(items)[:most]))
    return text + (f" and {len(items) - most} more" if len(items) > most else "")


Raw = list[tuple[int | None, str, str]]  # (statement index or None for the document, code, detail)
UNKNOWN = ("UNKNOWN_ACTION", "UNKNOWN_PREFIX")


def run_parliament(parliament: Any, policy: dict[str, Any], community: bool) -> Raw:
    """Parliament's findings; it stops at a statement's unknown action, so the rest of it is analysed again without."""
    result = parliament.analyze_policy_string(
        json.dumps(policy, default=str),
        include_community_auditors=community,
        ignore_private_auditors=True,
        config=parliament.config,
    )
    raw: Raw = [(None, f.issue, render(f.detail, f.location)) for f in result._findings]
    unknown: dict[int, set[str]] = {}
    for index, statement in enumerate(result.statements):
        for f in statement.findings:
            raw.append((index, f.issue, render(f.detail, f.location)))
            if f.issue in UNKNOWN:
                unknown.setdefault(index, set()).add(f.location["string"])
    if not unknown:
        return raw
    statements = [dict(s) for s in policy["Statement"]]
    for index, actions in unknown.items():
        kept = [a for a in _as_list(statements[index]["Action"]) if a not in actions]
        statements[index]["Action"] = kept or ["sts:GetCallerIdentity"]  # parliament needs one
    again = run_parliament(parliament, {**policy, "Statement": statements}, community)
    return raw + [item for item in again if item not in raw]


def written_statements(document: Document) -> set[str]:
    """The label of every statement as written, each branch of an Fn::If included."""

    def labels(item: Any, index: int) -> set[str]:
        if isinstance(item, dict) and set(item) == {"Fn::If"}:
            return labels(item["Fn::If"][1], index) | labels(item["Fn::If"][2], index)
        if item == {"Ref": "AWS::NoValue"}:
            return set()
        return {str(item.get("Sid", f"Statement[{index}]"))}

    raw = document.raw["Statement"]
    return {label for index, item in enumerate(_as_list(raw)) for label in labels(item, index)}


def analyse(document: Document, parliament: Any, cache: dict[str, Raw]) -> list[Finding]:
    found: list[Finding] = []
    variants = scenarios(document)
    unreached = written_statements(document)
    for values in variants:
        resolver = Resolver(document.template, values)
        labelled = resolved_statements(document, resolver)
        unreached -= {label for label, _ in labelled}
        if not labelled:
            continue  # every statement is conditional, and none applies: IAM would refuse it, cfn-lint says so
        policy = {k: v for k, v in resolver.resolve(document.raw).items() if k != "Statement"}
        policy["Statement"] = [statement for _, statement in labelled]
        text = json.dumps(policy, sort_keys=True, default=str)
        if text not in cache:
            # The community auditors judge what a policy lets its holder do; in a trust policy
            # sts:AssumeRole is the point, not a credentials exposure.
            cache[text] = run_parliament(parliament, policy, community=not document.trust)
        where = document.label
        if len(variants) > 1:
            where += " with " + ", ".join(f"{k}={v!r}" for k, v in values.items())
        for index, code, detail in cache[text]:
            statement = document.label if index is None else labelled[index][0]
            found.append(Finding(document.template.name, document.resource, statement, code, detail, where))
    for label in sorted(unreached):
        detail = "no parameter values tried select this statement (see scenarios())"
        found.append(Finding(document.template.name, document.resource, label, "NOT_ANALYSED", detail, document.label))
    return found


def justified() -> dict[tuple[str, str, str, str], str]:
    data = yaml.load(JUSTIFIED.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    return {
        (template, resource, statement, code): reason
        for template, resources in data.items()
        for resource, statements in resources.items()
        for statement, codes in statements.items()
        for code, reason in codes.items()
    }


def main() -> int:
    started = time.perf_counter()
    # parliament 1.6.4 imports pkg_resources (setuptools < 82), which warns that it is deprecated.
    warnings.filterwarnings("ignore", category=UserWarning, message="pkg_resources is deprecated")
    import parliament  # only now: after the filter above

    skipped: list[str] = []
    findings: list[Finding] = []
    cache: dict[str, Raw] = {}
    count = 0
    try:
        for name in TEMPLATES:
            template = Template(name, load((ROOT / name).read_text(encoding="utf-8")))
            for document in documents(template, skipped):
                count += 1
                findings += analyse(document, parliament, cache)
    except AnalysisError as exc:
        print(f"iam-analysis: {exc}", file=sys.stderr)
        return 2

    reasons = justified()
    grouped: dict[tuple[str, str, str, str], list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.key, []).append(finding)
    failed = False
    for key, group in sorted(grouped.items()):
        if key in reasons:
            continue
        failed = True
        template_name, resource, statement, code = key
        print(f"{template_name} {resource} {statement}: {code}")
        for detail, where in sorted({(f.detail, f.where) for f in group}):
            print(f"    {detail or '(no detail)'}  [{where}]")
    for key in sorted(set(reasons) - set(grouped)):
        failed = True
        print(f"stale justification, no such finding: {' '.join(key)}")
    if failed:
        print(
            f"iam-analysis: fix each finding above, or justify it in {JUSTIFIED.relative_to(ROOT)}; "
            "remove the stale justifications"
        )
    elapsed = time.perf_counter() - started
    print(
        f"iam-analysis: {count} policy documents in {len(TEMPLATES)} templates ({len(cache)} resolved variants), "
        f"{len(grouped)} findings, {len(set(reasons) & set(grouped))} justified, {elapsed:.1f}s"
    )
    if skipped:
        counted = ", ".join(f"{what} x{n}" if n > 1 else what for what, n in sorted(Counter(skipped).items()))
        print(f"iam-analysis: not analysed (documents outside the template): {counted}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
