"""What we refuse to edit, and how we say so: never a guess about what a policy means."""

from __future__ import annotations

import json
from typing import Any

import pytest

from expel_onboarding import json_text, key_policy
from expel_onboarding.errors import KeyPolicyAmbiguous, KeyPolicyEditMismatch, KeyPolicyNotEditable
from expel_onboarding.key_policy import Target

TARGET = Target(
    key_arn="arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    sid="ExpelOnboardingA1B2C3D4E5F6",
    log_archive_account="222233334444",
    expel_role_arn="arn:aws:iam::222233334444:role/ExpelTrailAssumeRole",
    region="us-east-1",
)
OURS = key_policy.our_statement(TARGET)
OURS_TEXT = json.dumps(OURS)
ADMIN = '{"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*"}'


def policy(*statements: str, extra: str = "") -> key_policy.PolicyText:
    return key_policy.parse(f'{{"Version": "2012-10-17",{extra} "Statement": [{", ".join(statements)}]}}')


def test_two_statements_sharing_a_sid_are_refused_by_name() -> None:
    twin = ADMIN.replace('"kms:*"', '"kms:Decrypt"')
    with pytest.raises(KeyPolicyAmbiguous, match=r'2 statements .* share the Sid "Admin"') as raised:
        key_policy.check_unambiguous(policy(ADMIN, twin), TARGET.sid)
    assert "give every statement its own Sid" in str(raised.value)


def test_two_statements_of_ours_make_ours_unidentifiable() -> None:
    with pytest.raises(KeyPolicyAmbiguous, match=f"2 statements .* carry our Sid {TARGET.sid}") as raised:
        key_policy.check_identifiable(policy(ADMIN, OURS_TEXT, OURS_TEXT), TARGET.sid)
    assert f"keep exactly one statement with Sid {TARGET.sid}" in str(raised.value)


def test_a_statement_naming_its_sid_twice_with_ours_among_them_is_unidentifiable() -> None:
    hidden = '{"Sid": "ExpelOnboardingA1B2C3D4E5F6", "Sid": "Theirs", "Effect": "Allow"}'
    with pytest.raises(KeyPolicyAmbiguous, match=r'names Sid 2 times \("ExpelOnboardingA1B2C3D4E5F6", "Theirs"\)'):
        key_policy.check_identifiable(policy(ADMIN, hidden), TARGET.sid)


def test_a_key_repeated_deep_in_another_teams_statement_is_named_with_its_statement() -> None:
    repeated = (
        '{"Sid": "Audit São Paulo", "Effect": "Deny", "Principal": "*", "Action": "kms:*", '
        '"Condition": {"StringEquals": {"aws:PrincipalTag/team": "a", "aws:PrincipalTag/team": "b"}}}'
    )
    parsed = policy(ADMIN, repeated)
    key_policy.check_identifiable(parsed, TARGET.sid)  # ours is not in doubt: reading is fine
    with pytest.raises(KeyPolicyAmbiguous) as raised:
        key_policy.check_unambiguous(parsed, TARGET.sid)
    assert 'Sid "Audit São Paulo"' in raised.value.found
    assert 'the key "aws:PrincipalTag/team" twice' in raised.value.found


def test_a_statement_without_sid_is_named_by_its_position() -> None:
    repeated = '{"Effect": "Allow", "Effect": "Deny", "Principal": "*"}'
    with pytest.raises(KeyPolicyAmbiguous, match=r'Statement 2 \(it has no Sid\) .* the key "Effect" twice'):
        key_policy.check_unambiguous(policy(ADMIN, repeated), TARGET.sid)


def test_a_key_repeated_outside_the_statements_is_refused() -> None:
    with pytest.raises(KeyPolicyAmbiguous, match='the key "Version" twice outside its statements'):
        key_policy.check_unambiguous(policy(ADMIN, extra=' "Version": "2008-10-17",'), TARGET.sid)


def test_two_statement_keys_are_refused_before_anything_else() -> None:
    with pytest.raises(KeyPolicyAmbiguous, match="2 Statement keys"):
        key_policy.parse(f'{{"Statement": [{ADMIN}], "Statement": [{OURS_TEXT}]}}')


def test_a_repeated_key_in_our_own_statement_does_not_block_rewriting_it() -> None:
    ours_twice = OURS_TEXT.replace('"Effect": "Allow"', '"Effect": "Deny", "Effect": "Allow"')
    text = f'{{"Statement": [{ADMIN}, {ours_twice}]}}'
    key_policy.check_unambiguous(key_policy.parse(text), TARGET.sid)
    assert key_policy.remove_text(text, TARGET.sid) == f'{{"Statement": [{ADMIN}]}}'


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"Statement": [', "not valid JSON"),
        (f"[{ADMIN}]", "JSON but not an object"),
        ('{"Version": "2012-10-17"}', "has no Statement"),
        ('{"Statement": "kms:*"}', "neither a list nor an object"),
    ],
)
def test_a_policy_we_cannot_find_statements_in_is_not_edited(text: str, found: str) -> None:
    with pytest.raises(KeyPolicyNotEditable, match=found) as raised:
        key_policy.parse(text)
    assert "Statement list" in raised.value.fix


@pytest.mark.parametrize("statement", [f"[{OURS_TEXT}]", OURS_TEXT], ids=["list", "single-object"])
def test_removing_our_statement_when_it_is_the_only_one_is_refused(statement: str) -> None:
    with pytest.raises(KeyPolicyNotEditable, match="the only statement"):
        key_policy.remove_text(f'{{"Statement": {statement}}}', TARGET.sid)


def test_an_edit_that_does_not_parse_back_to_the_intended_policy_is_never_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(json_text, "render", lambda *_: '{"Sid": "Something else"}')
    with pytest.raises(KeyPolicyEditMismatch, match="nothing was written"):
        key_policy.apply_text(f'{{"Statement": [{ADMIN}]}}', OURS)


def test_orphaned_ids_under_not_principal_are_found_too() -> None:
    statements: list[dict[str, Any]] = [
        {"Sid": "Deny all but", "Effect": "Deny", "NotPrincipal": {"AWS": ["AROAJ2UCCR6DPCEXAMPLE"]}},
        {"Sid": "Old", "Effect": "Allow", "Principal": {"AWS": "AIDAJQABLZS4A3QDU576Q"}},
        {"Sid": "Fine", "Effect": "Allow", "NotPrincipal": "*", "Principal": {"AWS": 123}},
    ]
    found = key_policy.orphaned_principals({"Statement": statements})
    assert found == ["AROAJ2UCCR6DPCEXAMPLE", "AIDAJQABLZS4A3QDU576Q"]
