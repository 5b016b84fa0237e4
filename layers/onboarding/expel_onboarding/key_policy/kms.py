"""Reading and writing the policy in the key's own account: the step's converge, with its preflight, and
everything KMS would refuse, said before the write."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from expel_onboarding import errors
from expel_onboarding.errors import (
    ConcurrentModification,
    KeyNotUsable,
    KeyPolicyAmbiguous,
    KeyPolicyMalformed,
    KeyPolicyNotDelegated,
    KeyPolicyNotEditable,
    KeyPolicyTooLarge,
    OrphanedPrincipals,
    error_code,
    error_message,
    translate,
)
from expel_onboarding.key_policy.manual import action_required, refused
from expel_onboarding.key_policy.statement import (
    DENY_ALTERNATIVES,
    LOST_RESPONSE,
    MAX_POLICY_BYTES,
    MAX_WRITES,
    POLICY_NAME,
    STEP,
    Target,
    key_account,
    kms_characters,
    orphaned_principals,
    size,
)
from expel_onboarding.key_policy.text import (
    Edit,
    PolicyText,
    check_identifiable,
    check_unambiguous,
    converged,
    edit_for,
    legacy_statement,
    parse,
)
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


def read_text(kms: KMSClient, target: Target) -> str:
    """The key policy exactly as KMS stores it."""
    try:
        return kms.get_key_policy(KeyId=target.key_arn, PolicyName=POLICY_NAME)["Policy"]
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            raise KeyNotUsable(
                f"The CloudTrail key {target.key_arn} does not exist.",
                "point CloudTrailKeyArn at the key the trail uses now, or leave it empty to discover it.",
            ) from exc
        if refused_by_the_key_policy(exc):
            raise not_delegated(exc, "kms:GetKeyPolicy", target) from exc
        raise translate(exc, "kms:GetKeyPolicy", target.key_arn, DENY_ALTERNATIVES) from exc


# A KMS key policy that does not allow a principal, directly or through the statement that delegates
# to its account's root, makes every IAM permission to the key void: "Unless the key policy explicitly
# allows it, you cannot use IAM policies to allow access to a KMS key" (AWS KMS developer guide, "Key
# policies in AWS KMS": https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html; the
# root statement: "Default key policy", "Allows access to the AWS account and enables IAM policies":
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). Then no retry and no
# change of ours can help: the key's administrators must add our statement. AWS says which policy
# refused an implicit deny only in the message ("... because no identity-based policy allows ..." or
# "... because no resource-based policy allows ...", IAM user guide, "Access denied error messages":
# https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html). Only our own
# role's missing permission stays AccessNotGranted (retried: it may not have propagated yet); any other
# implicit deny on the key is the key policy's. moto never refuses by key policy; the Stubber tests in
# tests/functional/test_key_policy_stubbed.py hold this code to it.
IDENTITY_POLICY_REFUSED = "no identity-based policy allows"


def refused_by_the_key_policy(exc: ClientError) -> bool:
    return (
        error_code(exc) in errors.ACCESS_DENIED_CODES
        and not errors.is_explicit_deny(exc)
        and IDENTITY_POLICY_REFUSED not in error_message(exc).lower()
    )


def not_delegated(exc: ClientError, action: str, target: Target) -> KeyPolicyNotDelegated:
    account = key_account(target.key_arn)
    return KeyPolicyNotDelegated(
        f"KMS refused {action} on {target.key_arn}: {error_message(exc)}. The key's policy allows this caller "
        f"neither directly nor through its account's root (arn:{target.partition}:iam::{account}:root), so no "
        "IAM permission to the key takes effect.",
        "the key's administrators should add our statement below themselves, or add the default key policy's "
        "statement that lets IAM policies in the key's account grant access (AWS KMS, Default key policy), then "
        "re-run this step.",
    )


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


def too_large(target: Target, body: str, kms_said: str = "") -> KeyPolicyTooLarge:
    """The refusal for a policy over the limit. We never reformat other teams' text to make room."""
    said = f" KMS answered: {kms_said}" if kms_said else ""
    compact = size(
        kms_characters(json.dumps(json.loads(body, strict=False), separators=(",", ":"), ensure_ascii=False))
    )
    whitespace = (
        f"remove the policy's indentation (KMS counts whitespace: it would then be {compact} bytes), "
        if compact <= MAX_POLICY_BYTES
        else ""
    )
    return KeyPolicyTooLarge(
        f"With our statement the policy of {target.key_arn} would be {size(body)} bytes (UTF-8); KMS allows "
        f"{MAX_POLICY_BYTES}.{said}",
        f"its owners should {whitespace}shrink the policy (merge statements that differ only in principal), or "
        f"grant kms:Decrypt to {target.expel_role_arn} through a KMS grant instead.",
    )


def check_writable(edit: Edit, target: Target) -> None:
    """What KMS would refuse, caught before the write: deleted principals and the size limit."""
    orphans = orphaned_principals(json.loads(edit.text, strict=False))
    if orphans:
        raise OrphanedPrincipals(
            f"The policy of {target.key_arn} names deleted principals {', '.join(orphans)} (under Principal or "
            "NotPrincipal), so KMS would refuse any update of it.",
            "its owners should replace or remove those principals (we never delete another team's statement), "
            "then re-run this step.",
        )
    if size(edit.text) > MAX_POLICY_BYTES:
        raise too_large(target, edit.text)


def put_refused(exc: ClientError, target: Target, body: str) -> Exception:
    """PutKeyPolicy's refusals, in words (API reference, PutKeyPolicy, Errors); others as translate() says."""
    code, said = error_code(exc), error_message(exc)
    if code == "MalformedPolicyDocumentException":
        return KeyPolicyMalformed(
            f"KMS refused the policy we sent for {target.key_arn} as not syntactically or semantically correct "
            f"({said}).",
            "KMS refuses a policy naming a principal that does not exist or is not visible yet, and one that "
            "would stop the caller from changing the policy again. If the message names a principal, its "
            "statement's owners should replace or remove it (we never delete another team's statement); if "
            "that principal was created moments ago, re-run in a minute.",
        )
    if code == "LimitExceededException":
        return too_large(target, body, said)
    if code == "KMSInvalidStateException":
        return KeyNotUsable(
            f"KMS refused kms:PutKeyPolicy on {target.key_arn} because of the key's state ({said}).",
            f"aws kms describe-key --key-id {shlex.quote(target.key_arn)} shows KeyState: wait for a transient "
            "state (Creating, Updating) to end, or cancel the key's deletion or reconnect its custom key store, "
            "then re-run; or point CloudTrailKeyArn at the key the trail uses now.",
        )
    if refused_by_the_key_policy(exc):
        return not_delegated(exc, "kms:PutKeyPolicy", target)
    return translate(exc, "kms:PutKeyPolicy", target.key_arn, DENY_ALTERNATIVES)


def converge(kms: KMSClient, target: Target, mode: Mode, *, preflight: bool = False) -> StepReport:
    """Read, decide, check what KMS would refuse, write only if needed, re-read and edit again if raced.

    A preflight stops just before the write: it reports what the write would do, or raises what the write
    would meet, so the run can refuse before any step has written."""
    try:
        return _converge(kms, target, mode, preflight=preflight)
    except (KeyPolicyAmbiguous, KeyPolicyNotEditable) as exc:
        return refused(target, exc)
    except (OrphanedPrincipals, KeyPolicyNotDelegated) as exc:
        return action_required(target, str(exc), mode)


@dataclass(frozen=True)
class Preview:
    """What a write would start from and make: the policy as read, and the edit (None: nothing to write)."""

    policy: PolicyText
    edit: Edit | None


def checked_edit(policy: PolicyText, target: Target, mode: Mode) -> Edit:
    """The edit of policy for mode, after every check KMS makes before a write."""
    check_unambiguous(policy, target.sid, target.key_arn)
    edit = edit_for(policy, target, mode)
    check_writable(edit, target)
    return edit


def preview(kms: KMSClient, target: Target, mode: Mode) -> Preview:
    """The one preflight, which the step and plan share: every read and check a write would need, and no write.
    Raises what the write would meet; a check needs no edit."""
    policy = parse(read_text(kms, target), target.key_arn)
    check_identifiable(policy, target.sid, target.key_arn)
    if mode is Mode.CHECK or converged(policy, target, mode):
        return Preview(policy, None)
    if mode is not Mode.REMOVE:
        check_usable(kms, target)
    return Preview(policy, checked_edit(policy, target, mode))


def _converge(kms: KMSClient, target: Target, mode: Mode, *, preflight: bool) -> StepReport:
    data = {"KeyArn": target.key_arn, "Sid": target.sid}
    seen = preview(kms, target, mode)
    policy = seen.policy
    # Only a statement this run adds is undone by removing it; one it corrected stays corrected.
    # A statement renamed from its former Sid was there before the run: removing it is no undo.
    added = not policy.ours(target.sid) and not legacy_statement(policy, target)
    undo = {"Remove": True} if mode is not Mode.REMOVE and added else None
    if converged(policy, target, mode):
        present = "is not in" if mode is Mode.REMOVE else "is in"
        return StepReport(
            STEP, Status.OK, f"Our statement '{target.sid}' {present} the policy of {target.key_arn}.", data
        )
    if seen.edit is None:
        return StepReport(
            STEP, Status.DRIFTED, f"Our statement '{target.sid}' is missing or changed in {target.key_arn}.", data
        )
    edit = seen.edit
    for attempt in range(MAX_WRITES):
        if attempt:
            edit = checked_edit(policy, target, mode)
        if preflight:
            verb = "remove" if mode is Mode.REMOVE else "add"
            return StepReport(
                STEP,
                Status.DRIFTED,
                f"Would {verb} our statement '{target.sid}' in the policy of {target.key_arn} "
                f"({size(edit.text)} of {MAX_POLICY_BYTES} bytes); every check KMS makes before a write passes.",
                data,
            )
        lost = False
        try:
            # BypassPolicyLockoutSafetyCheck stays false: KMS must keep refusing a policy that locks
            # the key's owners out.
            kms.put_key_policy(KeyId=target.key_arn, PolicyName=POLICY_NAME, Policy=edit.text)
        except ClientError as exc:
            raise put_refused(exc, target, edit.text) from exc
        except LOST_RESPONSE:
            # The request went out and its answer did not come back: the re-read below decides.
            lost = True
        policy = parse(read_text(kms, target), target.key_arn)
        check_identifiable(policy, target.sid, target.key_arn)
        if converged(policy, target, mode):
            verb = "Removed" if mode is Mode.REMOVE else "Added"
            detail = f"{verb} our statement '{target.sid}' in the policy of {target.key_arn}."
            if lost:
                detail += " The answer to our write was lost; re-reading the policy shows the change is there."
            if edit.note:
                detail += f" {edit.note}"
            return StepReport(STEP, Status.CHANGED, detail, data, undo)
    raise ConcurrentModification(
        f"The policy of {target.key_arn} changed under us, or our write did not land, {MAX_WRITES} times in a row.",
        "find the other automation writing it (CloudTrail: PutKeyPolicy events), pause it and re-run.",
    )
