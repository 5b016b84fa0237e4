"""Gap: moto does not emulate IAM's policy simulator (SimulatePrincipalPolicy). Verify asks it whether the
Expel role's own policies let Workbench read, and must not say OK without that answer, so the local AWS
answers it from the role's policies, with the parts of IAM's policy language it evaluates
(localaws.policy_language).

What it answers, as IAM's API reference says (SimulatePrincipalPolicy, EvaluationResult,
ResourceSpecificResult: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html):
- the policies simulated are the role's inline and attached managed policies, with its permissions
  boundary; resource-based policies are not read (the caller may pass one; Verify does not);
- one EvaluationResult per action, whose EvalDecision is the most restrictive over its resources, and one
  ResourceSpecificResult per resource;
- a Deny that applies is explicitDeny; else an Allow that applies (and that the boundary allows) is allowed;
  else implicitDeny;
- a resource of another account needs that account's resource policy too: its decision is implicitDeny,
  and EvalDecisionDetails says what the role's own policies decided ("IAM Policy");
- the condition keys a matching statement tests that the request did not supply are MissingContextValues.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.models import iam_backends

from localaws import policy_language

ALLOWED, IMPLICIT_DENY, EXPLICIT_DENY = "allowed", "implicitDeny", "explicitDeny"
RESTRICTIVENESS = (EXPLICIT_DENY, IMPLICIT_DENY, ALLOWED)


def simulate_principal_policy(self: Any) -> ActionResult:
    """IamResponse.simulate_principal_policy: the role's answer for each action and resource asked."""
    source = str(self._get_param("PolicySourceArn"))
    actions = list(self._get_param("ActionNames", []))
    resources = list(self._get_param("ResourceArns", [])) or ["*"]
    context = _context(self._get_param("ContextEntries", []))
    account = source.split(":")[4]
    role = iam_backends[account][self.partition].get_role(source.rsplit("/", 1)[-1])
    identity = [*(_text(d) for d in role.policies.values()), *(_document(p) for p in role.managed_policies.values())]
    boundary = _boundary(account, self.partition, role.permissions_boundary_arn)
    results = [_evaluated(action, resources, identity, boundary, context, account) for action in actions]
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


def _evaluated(
    action: str,
    resources: Sequence[str],
    identity: Sequence[str],
    boundary: str | None,
    context: Mapping[str, str | tuple[str, ...]],
    account: str,
) -> dict[str, Any]:
    specific = []
    for resource in resources:
        decision, missing = decide(action, resource, identity, context)
        if decision == ALLOWED and boundary is not None and decide(action, resource, [boundary], context)[0] != ALLOWED:
            decision = IMPLICIT_DENY
        result: dict[str, Any] = {
            "EvalResourceName": resource,
            "EvalResourceDecision": decision,
            "MissingContextValues": missing,
        }
        owner = resource.split(":")[4] if resource.count(":") >= 5 else ""
        if owner and owner != account:
            # Across accounts the resource's own policy must allow too, and the simulator was given none.
            result["EvalDecisionDetails"] = {"IAM Policy": decision}
            result["EvalResourceDecision"] = EXPLICIT_DENY if decision == EXPLICIT_DENY else IMPLICIT_DENY
        specific.append(result)
    overall = min((r["EvalResourceDecision"] for r in specific), key=RESTRICTIVENESS.index)
    return {
        "EvalActionName": action,
        "EvalResourceName": "*" if len(resources) != 1 else resources[0],
        "EvalDecision": overall,
        "MissingContextValues": sorted({key for r in specific for key in r["MissingContextValues"]}),
        "ResourceSpecificResults": specific,
    }


def decide(
    action: str, resource: str, documents: Iterable[str], context: Mapping[str, str | tuple[str, ...]]
) -> tuple[str, list[str]]:
    """What these policies decide for one request, and the condition keys they test that it lacks."""
    missing: set[str] = set()
    allowed = False
    for document in documents:
        for effect in ("Deny", "Allow"):
            for statement in policy_language.statements(document, effect):
                if not (
                    policy_language.action_matches(statement, action)
                    and policy_language.resource_matches(statement, resource)
                ):
                    continue
                missing |= {key for _, key, _ in statement.conditions if key.lower() not in context}
                if policy_language.applies(statement, action, resource, lambda: context):
                    if effect == "Deny":
                        return EXPLICIT_DENY, sorted(missing)
                    allowed = True
    return (ALLOWED if allowed else IMPLICIT_DENY), sorted(missing)


def _context(entries: Sequence[Mapping[str, Any]]) -> dict[str, str | tuple[str, ...]]:
    """ContextEntries as policy_language reads a request's context: lower-case keys, one value or several."""
    found: dict[str, str | tuple[str, ...]] = {}
    for entry in entries:
        values = tuple(str(v) for v in entry.get("ContextKeyValues", []))
        found[str(entry["ContextKeyName"]).lower()] = values[0] if len(values) == 1 else values
    return found


def _document(policy: Any) -> str:
    """A managed policy's default version, as JSON text."""
    version = next(v for v in policy.versions if v.version_id == policy.default_version_id)
    return _text(version.document)


def _text(document: Any) -> str:
    """A policy document as JSON text: moto keeps some as parsed dicts (those CloudFormation made)."""
    return document if isinstance(document, str) else json.dumps(document)


def _boundary(account: str, partition: str, arn: str | None) -> str | None:
    if not arn:
        return None
    return _document(iam_backends[account][partition].get_policy(arn))
