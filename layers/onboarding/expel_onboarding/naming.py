"""Deterministic names for the entries we add to documents we do not own.

The key-policy Sid and the notification Id are how we find our own entry again, so they must be
stable for a stack across runs, processes and Python versions (never `hash()`), and distinct per
stack, so two onboarding stacks on one bucket never touch each other's entry.
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
