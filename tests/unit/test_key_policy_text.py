"""Our statement goes into the key policy's text and comes out again; nobody else's text changes."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings

from expel_onboarding import key_policy
from expel_onboarding.key_policy import Target
from tests.support import key_policy_document
from tests.unit.strategies import KEY_POLICY_LIMIT, PolicyText, key_policy_texts

TARGET = Target(
    key_arn="arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    sid="ExpelOnboardingA1B2C3D4E5F6",
    log_archive_account="222233334444",
    expel_role_arn="arn:aws:iam::222233334444:role/ExpelTrailAssumeRole",
    region="us-east-1",
)
OURS = key_policy.our_statement(TARGET)
MANY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def inserted(before: str, after: str) -> str:
    """The text an edit added, when it only added text in one place."""
    prefix = 0
    while prefix < len(before) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < len(before) - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    assert prefix + suffix == len(before), "the edit changed text that was already there"
    return after[prefix : len(after) - suffix]


def remove_gives_back_the_text_apply_found_byte_for_byte(case: PolicyText) -> None:
    applied = key_policy.apply_text(case.text, OURS)
    assert key_policy.remove_text(applied, TARGET.sid) == case.text
    # ...and doing either again changes nothing more.
    assert key_policy.apply_text(applied, OURS) == applied
    assert key_policy.remove_text(case.text, TARGET.sid) == case.text


def apply_only_adds_our_statement_in_the_policys_own_layout(case: PolicyText) -> None:
    applied = key_policy.apply_text(case.text, OURS)
    if case.single:
        # The one place we cannot only insert: a single object becomes [ours, that object].
        assert key_policy.parse(case.text).elements[0].span.of(case.text) in applied
        assert json.loads(applied) == {**case.policy, "Statement": [OURS, case.policy["Statement"]]}
        added = applied
    else:
        added = inserted(case.text, applied)
        assert json.loads(added.lstrip(" \t\r\n,")) == OURS
        assert json.loads(applied) == key_policy_document.merge(case.policy, OURS)
    if "\n" not in case.text:
        assert "\n" not in applied
    if case.crlf:
        assert re.search(r"(?<!\r)\n", applied) is None, "a bare LF in a CRLF policy"
    indents = set(re.findall(r"\n([ \t]*)", added))
    if case.layout == "tabs":
        assert all(set(indent) <= {"\t"} for indent in indents)
    if case.layout in ("indent2", "indent4"):
        width = 2 if case.layout == "indent2" else 4
        assert all(set(indent) <= {" "} and len(indent) % width == 0 for indent in indents)


def the_size_we_check_is_the_utf8_size_of_the_text_we_send(case: PolicyText) -> None:
    applied = key_policy.apply_text(case.text, OURS)
    assert key_policy.size(applied) == len(applied.encode("utf-8"))
    # Latin-1 stays one character (two UTF-8 bytes), never a six-byte \u escape.
    assert "\\u00" not in applied
    assert key_policy.size(case.text) <= KEY_POLICY_LIMIT


# Every property above on the same 500 documents (strategies.py says why).
@MANY
@given(key_policy_texts())
def test_apply_and_remove_on_any_foreign_policy_text(case: PolicyText) -> None:
    """Byte-for-byte undo, only our statement added in the layout found, the size sent is the size checked."""
    remove_gives_back_the_text_apply_found_byte_for_byte(case)
    apply_only_adds_our_statement_in_the_policys_own_layout(case)
    the_size_we_check_is_the_utf8_size_of_the_text_we_send(case)


def test_latin1_text_is_kept_literally_not_escaped() -> None:
    text = '{"Version":"2012-10-17","Statement":[{"Sid":"São Paulo","Effect":"Allow","Principal":"*"}]}'
    applied = key_policy.apply_text(text, OURS)
    assert applied.startswith('{"Version":"2012-10-17","Statement":[{"Sid":"São Paulo",')
    assert key_policy.size(applied) == len(text.encode()) + len(json.dumps(OURS, separators=(",", ":"))) + 1


def test_a_19_kb_compact_policy_grows_only_by_our_compact_statement() -> None:
    statements = [
        {"Sid": f"Team{i}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::1:role/t{i}"}, "Action": "kms:*"}
        for i in range(195)
    ]
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))
    assert 18_000 < len(text) < 20_000, len(text)
    applied = key_policy.apply_text(text, OURS)
    assert len(applied) - len(text) == len(json.dumps(OURS, separators=(",", ":"))) + 1


def test_a_single_object_statement_comes_back_as_that_object() -> None:
    text = (
        '{\r\n\t"Version": "2012-10-17",\r\n\t"Statement": {\r\n\t\t"Sid": "Only",\r\n\t\t"Effect": "Allow"\r\n\t}\r\n}'
    )
    applied = key_policy.apply_text(text, OURS)
    assert applied.startswith('{\r\n\t"Version": "2012-10-17",\r\n\t"Statement": [{\r\n\t\t"Sid": "ExpelOnboarding')
    assert applied.endswith('}, {\r\n\t\t"Sid": "Only",\r\n\t\t"Effect": "Allow"\r\n\t}]\r\n}')
    assert key_policy.remove_text(applied, TARGET.sid) == text


def test_a_list_with_ours_first_that_our_apply_did_not_make_stays_a_list() -> None:
    theirs = {"Sid": "Only", "Effect": "Allow", "Principal": "*"}
    text = json.dumps({"Statement": [OURS, theirs]}, indent=2)
    removed = key_policy.remove_text(text, TARGET.sid)
    assert json.loads(removed) == {"Statement": [theirs]}


def test_a_stale_statement_of_ours_is_rewritten_where_it_stands_in_the_same_layout() -> None:
    stale = {**OURS, "Action": "kms:*"}
    admin = {"Sid": "Admin", "Effect": "Allow", "Principal": "*"}
    text = json.dumps({"Statement": [stale, admin]}, indent=4)
    applied = key_policy.apply_text(text, OURS)
    assert applied == json.dumps({"Statement": [OURS, admin]}, indent=4)


def test_our_statement_after_another_teams_last_is_cut_with_the_separator_before_it() -> None:
    text = '{"Statement":[{"Sid":"A"}, {"Sid":"B"}]}'
    applied = key_policy.apply_text(text, OURS)
    assert applied.startswith('{"Statement":[{"Sid":"A"}, {"Sid":"B"}, {"Sid":"ExpelOnboarding')
    later = applied.replace("]}", ', {"Sid":"C"}]}')
    assert key_policy.remove_text(later, TARGET.sid) == '{"Statement":[{"Sid":"A"}, {"Sid":"B"}, {"Sid":"C"}]}'
