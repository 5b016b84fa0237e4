"""Seed step 2: one kms:Decrypt statement of ours in the CloudTrail key's policy.

The key lives in the management account and its policy belongs to whoever runs the organization
trail. We add one statement with a Sid of our own and hand every other statement back exactly as
read. The statement names the Log Archive account root as principal and narrows it with
aws:PrincipalArn, so it is valid before the Expel role exists and survives the role's re-creation.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from expel_onboarding.errors import ConcurrentModification, KeyNotUsable, KeyPolicyTooLarge, error_code, translate
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

STEP = "KeyPolicy"
POLICY_NAME = "default"
MAX_POLICY_BYTES = 32_768
MAX_WRITES = 3
# Unique ids (AROA... roles, AIDA... users) appear where a principal was deleted after the policy
# named it. KMS then refuses every PutKeyPolicy until someone removes them.
ORPHANED_PRINCIPAL = re.compile(r"^A(RO|ID)A[A-Z0-9]{12,}$")
DENY_ALTERNATIVES = "Add the statement from the management account with the command in this step's detail."

Policy = dict[str, Any]
Statement = dict[str, Any]


@dataclass(frozen=True)
class Target:
    key_arn: str
    sid: str
    log_archive_account: str
    expel_role_arn: str
    region: str
    partition: str = "aws"


def our_statement(target: Target) -> Statement:
    # kms:ViaService limits the grant to decrypting log objects as S3 serves them to the role; the
    # role never needs the key for anything else, so a leaked session cannot use it directly.
    return {
        "Sid": target.sid,
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{target.partition}:iam::{target.log_archive_account}:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": target.expel_role_arn},
            "StringEquals": {"kms:ViaService": f"s3.{target.region}.amazonaws.com"},
        },
    }


def statements_of(policy: Policy) -> list[Statement]:
    statement = policy.get("Statement", [])
    return [statement] if isinstance(statement, dict) else list(statement)


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
    """Readable JSON when it fits the limit, compact JSON when only that fits."""
    readable = json.dumps(policy, indent=2)
    return readable if size(readable) <= MAX_POLICY_BYTES else json.dumps(policy, separators=(",", ":"))


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def orphaned_principals(policy: Policy) -> list[str]:
    found: list[str] = []
    for statement in statements_of(policy):
        principal = statement.get("Principal")
        if not isinstance(principal, dict):
            continue
        values = principal.get("AWS", [])
        for value in [values] if isinstance(values, str) else values:
            if ORPHANED_PRINCIPAL.match(str(value)) and value not in found:
                found.append(str(value))
    return found


def manual_command(target: Target, mode: Mode = Mode.APPLY) -> str:
    """The command the key's administrators can run in its account to do this step by hand."""
    if mode is Mode.REMOVE:
        edit = f"jq '.Statement |= map(select(.Sid != \"{target.sid}\"))'"
    else:
        statement = json.dumps(our_statement(target), separators=(",", ":"))
        edit = f"jq --argjson s {shlex.quote(statement)} '.Statement |= (map(select(.Sid != $s.Sid)) + [$s])'"
    key = shlex.quote(target.key_arn)
    return (
        f"aws kms get-key-policy --key-id {key} --policy-name default --query Policy --output text | {edit} "
        f"> key-policy.json && aws kms put-key-policy --key-id {key} --policy-name default "
        "--policy file://key-policy.json"
    )


def action_required(target: Target, why: str, mode: Mode = Mode.APPLY) -> StepReport:
    statement = json.dumps(our_statement(target), indent=2)
    if mode is Mode.REMOVE:
        what = f"Remove the statement with Sid {target.sid} from the policy of {target.key_arn}"
    else:
        what = f"Add this statement to the policy of {target.key_arn} (in the key's account):\n{statement}\n"
    return StepReport(
        STEP,
        Status.ACTION_REQUIRED,
        f"{why} {what} or run there:\n{manual_command(target, mode)}",
        {"KeyArn": target.key_arn, "Sid": target.sid, "Statement": our_statement(target)},
    )


def key_account(key_arn: str) -> str:
    return key_arn.split(":")[4]


def not_encrypted() -> StepReport:
    return StepReport(STEP, Status.OK, "The logs are SSE-S3 encrypted: there is no key policy to change.", {})


def access(
    target: Target,
    key_policy_role_arn: str,
    local_kms: Callable[[], KMSClient],
    assumed_kms: Callable[[str, str], KMSClient],
) -> Callable[[], KMSClient] | None:
    """How to reach the key from its own account: directly, through the key-policy role, or not at all."""
    if key_account(target.key_arn) == target.log_archive_account:
        return local_kms
    if not key_policy_role_arn:
        return None
    return partial(assumed_kms, key_policy_role_arn, target.region)


def run(
    target: Target,
    mode: Mode,
    *,
    key_policy_role_arn: str,
    local_kms: Callable[[], KMSClient],
    assumed_kms: Callable[[str, str], KMSClient],
) -> StepReport:
    """Converge from the key's own account, or tell the customer exactly what to do there."""
    account = key_account(target.key_arn)
    kms_client = access(target, key_policy_role_arn, local_kms, assumed_kms)
    if kms_client is None:
        why = (
            f"The key is in account {account}, where only that account can edit its policy, and no "
            "KeyPolicyRoleArn was given (the org/ template creates that role)."
        )
        return action_required(target, why, mode)
    try:
        kms = kms_client()
    except ClientError as exc:
        why = f"The key is in account {account} and {key_policy_role_arn} could not be assumed ({exc})."
        return action_required(target, why, mode)
    return converge(kms, target, mode)


def read(kms: KMSClient, target: Target) -> Policy:
    try:
        text = kms.get_key_policy(KeyId=target.key_arn, PolicyName=POLICY_NAME)["Policy"]
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            raise KeyNotUsable(
                f"The CloudTrail key {target.key_arn} does not exist.",
                "point CloudTrailKeyArn at the key the trail uses now, or leave it empty to discover it.",
            ) from exc
        raise translate(exc, "kms:GetKeyPolicy", target.key_arn, DENY_ALTERNATIVES) from exc
    policy: Policy = json.loads(text)
    return policy


def check_usable(kms: KMSClient, target: Target) -> None:
    """Refuse a key CloudTrail cannot be using: missing, disabled, pending deletion or asymmetric."""
    fix = "point CloudTrailKeyArn at the key the trail uses now, or leave it empty to discover it."
    try:
        metadata = kms.describe_key(KeyId=target.key_arn)["KeyMetadata"]
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            raise KeyNotUsable(f"The CloudTrail key {target.key_arn} does not exist.", fix) from exc
        raise translate(exc, "kms:DescribeKey", target.key_arn, DENY_ALTERNATIVES) from exc
    state = metadata.get("KeyState", "Enabled")
    if state != "Enabled":
        raise KeyNotUsable(
            f"The CloudTrail key {target.key_arn} is {state}, so CloudTrail cannot encrypt with it.",
            f"enable the key (aws kms enable-key, or aws kms cancel-key-deletion), or {fix}",
        )
    spec = metadata.get("KeySpec", "SYMMETRIC_DEFAULT")
    if spec != "SYMMETRIC_DEFAULT":
        raise KeyNotUsable(f"The key {target.key_arn} is {spec}; CloudTrail uses only symmetric keys.", fix)


def converge(kms: KMSClient, target: Target, mode: Mode) -> StepReport:
    """Read, decide, check the limits, write only if needed, re-read and merge again if raced."""
    data = {"KeyArn": target.key_arn, "Sid": target.sid}
    current = read(kms, target)
    desired = desired_state(current, target, mode)
    if desired == current:
        present = "is not in" if mode is Mode.REMOVE else "is in"
        return StepReport(
            STEP, Status.OK, f"Our statement '{target.sid}' {present} the policy of {target.key_arn}.", data
        )
    if mode is Mode.CHECK:
        return StepReport(
            STEP, Status.DRIFTED, f"Our statement '{target.sid}' is missing or changed in {target.key_arn}.", data
        )
    if mode is not Mode.REMOVE:
        check_usable(kms, target)
    for _ in range(MAX_WRITES):
        orphans = orphaned_principals(desired)
        if orphans:
            return action_required(
                target,
                f"The policy of {target.key_arn} names deleted principals {orphans}, so KMS would refuse any "
                "update. Its owners should replace or remove those principals (we never delete another "
                "team's statement).",
                mode,
            )
        body = serialize(desired)
        if size(body) > MAX_POLICY_BYTES:
            raise KeyPolicyTooLarge(
                f"With our statement the policy of {target.key_arn} would be {size(body)} bytes; KMS allows "
                f"{MAX_POLICY_BYTES}.",
                "shrink the policy (merge statements that differ only in principal), or grant kms:Decrypt to "
                f"{target.expel_role_arn} through a KMS grant instead.",
            )
        try:
            # BypassPolicyLockoutSafetyCheck stays false: KMS must keep refusing a policy that locks
            # the key's owners out.
            kms.put_key_policy(KeyId=target.key_arn, PolicyName=POLICY_NAME, Policy=body)
        except ClientError as exc:
            raise translate(exc, "kms:PutKeyPolicy", target.key_arn, DENY_ALTERNATIVES) from exc
        current = read(kms, target)
        desired = desired_state(current, target, mode)
        if desired == current:
            verb = "Removed" if mode is Mode.REMOVE else "Added"
            return StepReport(
                STEP, Status.CHANGED, f"{verb} our statement '{target.sid}' in the policy of {target.key_arn}.", data
            )
    raise ConcurrentModification(
        f"The policy of {target.key_arn} changed under us {MAX_WRITES} times in a row.",
        "find the other automation writing it (CloudTrail: PutKeyPolicy events), pause it and re-run.",
    )
