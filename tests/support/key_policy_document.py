"""The key policy as a document, what it means rather than its text: the tests hold every text edit of the
KeyPolicy step (expel_onboarding.key_policy) to these. The step itself never rebuilds a policy it read."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING

from expel_onboarding.key_policy import MAX_POLICY_BYTES, Policy, Statement, Target, our_statement, read_text, size
from expel_onboarding.key_policy.statement import kms_characters, statements_of
from expel_onboarding.reports import Mode

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


def merge(policy: Policy, statement: Statement) -> Policy:
    """policy with our statement in place: replaced where our Sid already is, appended otherwise."""
    merged = copy.deepcopy(policy)
    current = statements_of(merged)
    for index, existing in enumerate(current):
        if existing.get("Sid") == statement["Sid"]:
            current[index] = copy.deepcopy(statement)
            break
    else:
        current.append(copy.deepcopy(statement))
    merged["Statement"] = current
    return merged


def remove(policy: Policy, sid: str) -> Policy:
    """policy without our statement; a policy that never had it comes back unchanged."""
    if not any(statement.get("Sid") == sid for statement in statements_of(policy)):
        return copy.deepcopy(policy)
    kept = copy.deepcopy(policy)
    kept["Statement"] = [copy.deepcopy(s) for s in statements_of(policy) if s.get("Sid") != sid]
    return kept


def desired_state(policy: Policy, target: Target, mode: Mode) -> Policy:
    return remove(policy, target.sid) if mode is Mode.REMOVE else merge(policy, our_statement(target))


def serialize(policy: Policy) -> str:
    """A whole policy as new text: readable when it fits the limit, compact when only that fits.

    The step never uses this on a policy it read (it splices text instead). Characters KMS accepts
    (up to U+00FF) stay literal; only those above are escaped.
    """
    readable = kms_characters(json.dumps(policy, indent=2, ensure_ascii=False))
    if size(readable) <= MAX_POLICY_BYTES:
        return readable
    return kms_characters(json.dumps(policy, separators=(",", ":"), ensure_ascii=False))


def read(kms: KMSClient, target: Target) -> Policy:
    policy: Policy = json.loads(read_text(kms, target))
    return policy
