"""The key-policy document work: our statement in, our statement out, nobody else's touched."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings

from expel_onboarding import key_policy
from expel_onboarding.key_policy import Target
from tests.support import key_policy_document
from tests.unit.strategies import key_policies

TARGET = Target(
    key_arn="arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    sid="ExpelOnboardingA1B2C3D4E5F6",
    log_archive_account="222233334444",
    expel_role_arn="arn:aws:iam::222233334444:role/ExpelTrailAssumeRole",
    region="us-east-1",
)
OURS = key_policy.our_statement(TARGET)
MANY = settings(max_examples=500, deadline=None)


def foreign(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in key_policy.statements_of(policy) if s.get("Sid") != TARGET.sid]


def remove_undoes_apply(policy: dict[str, Any]) -> None:
    assert key_policy_document.remove(key_policy_document.merge(policy, OURS), TARGET.sid) == policy


def apply_is_idempotent(policy: dict[str, Any]) -> None:
    once = key_policy_document.merge(policy, OURS)
    assert key_policy_document.merge(once, OURS) == once


def apply_never_changes_a_foreign_statement(policy: dict[str, Any]) -> None:
    before = copy.deepcopy(policy)
    merged = key_policy_document.merge(policy, OURS)
    assert foreign(merged) == foreign(policy)
    assert {k: v for k, v in merged.items() if k != "Statement"} == {
        k: v for k, v in policy.items() if k != "Statement"
    }
    assert policy == before


# Every property above on the same 500 documents (strategies.py says why).
@MANY
@given(key_policies())
def test_apply_and_remove_on_any_foreign_policy(policy: dict[str, Any]) -> None:
    """Remove undoes apply, apply is idempotent, no foreign statement changes."""
    remove_undoes_apply(policy)
    apply_is_idempotent(policy)
    apply_never_changes_a_foreign_statement(policy)


def test_our_statement_lets_only_the_expel_role_decrypt_cloudtrails_objects_through_s3() -> None:
    assert OURS == {
        "Sid": "ExpelOnboardingA1B2C3D4E5F6",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222233334444:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::222233334444:role/ExpelTrailAssumeRole"},
            "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
            # CloudTrail's encryption context: objects of the trails of the key's (the management) account.
            "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:111122223333:trail/*"},
        },
    }


def test_a_changed_statement_of_ours_is_replaced_where_it_stands() -> None:
    admin = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}
    stale = {**OURS, "Action": "kms:*"}
    merged = key_policy_document.merge({"Statement": [stale, admin]}, OURS)
    assert merged["Statement"] == [OURS, admin]


def test_a_single_statement_object_becomes_a_list_with_ours_after_it() -> None:
    admin = {"Sid": "Admin", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    assert key_policy_document.merge({"Statement": admin}, OURS)["Statement"] == [admin, OURS]


def test_removing_from_a_policy_without_our_statement_changes_nothing() -> None:
    admin = {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    assert key_policy_document.remove({"Statement": admin}, TARGET.sid) == {"Statement": admin}


def test_orphaned_role_and_user_ids_are_found() -> None:
    policy = {
        "Statement": [
            {"Sid": "Old", "Principal": {"AWS": ["AROAJ2UCCR6DPCEXAMPLE", "arn:aws:iam::1:role/x"]}},
            {"Sid": "Older", "Principal": {"AWS": "AIDAJQABLZS4A3QDU576Q"}},
            {"Sid": "Fine", "Principal": {"Service": "cloudtrail.amazonaws.com"}},
        ]
    }
    assert key_policy.orphaned_principals(policy) == ["AROAJ2UCCR6DPCEXAMPLE", "AIDAJQABLZS4A3QDU576Q"]


def test_serialize_is_readable_when_it_fits_and_compact_when_only_that_fits() -> None:
    small = {"Statement": [OURS]}
    assert "\n" in key_policy_document.serialize(small)
    padding = {"Sid": "Pad", "Effect": "Deny", "Principal": "*", "Action": [f"kms:Action{i}" for i in range(1600)]}
    large = {"Statement": [OURS, padding]}
    assert key_policy.size(json.dumps(large, indent=2)) > key_policy.MAX_POLICY_BYTES
    compact = key_policy_document.serialize(large)
    assert "\n" not in compact
    assert json.loads(compact) == large


def test_manual_command_carries_the_exact_statement() -> None:
    command = key_policy.manual_command(TARGET)
    assert "aws kms put-key-policy --key-id" in command
    assert json.dumps(OURS, separators=(",", ":")) in command
