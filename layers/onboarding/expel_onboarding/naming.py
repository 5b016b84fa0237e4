"""Deterministic names for the entries we add to documents we do not own.

The key-policy Sid and the notification Id are how we find our own entry again, so they must be
stable across runs, processes and Python versions (never `hash()`). The notification Id is distinct per
stack, so two onboarding stacks on one bucket never touch each other's entry. The key-policy Sid is
distinct per Expel role and key, and known before any stack exists (key_statement_sid).
"""

from __future__ import annotations

import hashlib
import re

OWNED_PREFIX = "ExpelOnboarding"
_SID_UNSAFE = re.compile(r"[^A-Za-z0-9]")


def owned_id(stack_id: str) -> str:
    """A name like ExpelOnboardingA1B2C3D4E5F6, valid as a KMS Sid and an S3 notification Id."""
    if not stack_id:
        raise ValueError("stack_id is empty: the owned id must be derived from the stack that owns it")
    digest = hashlib.sha256(stack_id.encode("utf-8")).hexdigest()[:12].upper()
    return _SID_UNSAFE.sub("", f"{OWNED_PREFIX}{digest}")


def key_statement_sid(expel_role_arn: str, key_arn: str) -> str:
    """Our key-policy statement's Sid, from what is known before any stack exists: the role it grants and
    the key. plan prints it, the deploy writes it and the management account's delegate, configured with
    both, accepts no other, so however often or with whatever stack id it is called, the key holds one grant."""
    if not expel_role_arn or not key_arn:
        raise ValueError("the Sid is derived from the Expel role ARN and the key ARN; one of them is empty")
    digest = hashlib.sha256(f"{expel_role_arn}\n{key_arn}".encode()).hexdigest()[:12].upper()
    return f"{OWNED_PREFIX}{digest}"


# The key-policy delegate's read-only door (org/management.yaml): an alias whose own resource-based policy
# admits only the Log Archive stack's Verify role. A permission on an alias lets a caller invoke that alias's
# ARN and nothing else (Lambda developer guide, "Using Lambda aliases in event sources and permissions
# policies": https://docs.aws.amazon.com/lambda/latest/dg/using-aliases.html), and the function answers a call
# through it with reads only (expel_onboarding.delegate).
DELEGATE_READER_ALIAS = "reader"


def delegate_reader_arn(delegate_arn: str) -> str:
    """The delegate's read-only alias ARN, from the function's unqualified ARN."""
    return f"{delegate_arn}:{DELEGATE_READER_ALIAS}"
