"""Step 2 of Expel's Control Tower guide: one kms:Decrypt statement of ours in the CloudTrail key's policy.

The key lives in the management account and its policy belongs to whoever runs the organization
trail. We edit the policy's TEXT, not a parsed copy of it: our statement is spliced into the
Statement array in the array's own style and cut out again the same way, so every other character
stays as its owners wrote it and removal gives back the text we found, byte for byte. The statement
names the Log Archive account root as principal and narrows it with aws:PrincipalArn, so it is valid
before the Expel role exists and survives the role's re-creation.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from expel_onboarding import errors
from expel_onboarding.errors import (
    AwsThrottled,
    ConcurrentModification,
    DelegateFailed,
    DelegateRefused,
    KeyNotUsable,
    KeyPolicyAmbiguous,
    KeyPolicyEditMismatch,
    KeyPolicyMalformed,
    KeyPolicyNotDelegated,
    KeyPolicyNotEditable,
    KeyPolicyTooLarge,
    OnboardingError,
    OrphanedPrincipals,
    error_code,
    error_message,
    throttle_of,
    translate,
)
from expel_onboarding.naming import delegate_reader_arn, owned_id
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

STEP = "KeyPolicy"
POLICY_NAME = "default"
# KMS's "Key policy document size" quota is 32 KB (32,768 bytes), not adjustable (AWS KMS Developer
# Guide, "Resource quotas": https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html;
# "Key policy format" in https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
# The PutKeyPolicy API reference (https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html)
# allows only tab, LF, CR and U+0020..U+00FF in the text and answers LimitExceededException beyond the
# limit (the API's own length constraint, 131,072 characters in botocore's model of it, is looser, so
# the byte quota binds). AWS names no encoding for those bytes. We count UTF-8 bytes of the exact text
# we send (not of botocore's \u-escaped wire form): JSON text is UTF-8 (RFC 8259 §8.1), and a UTF-8
# count is never below a character or Latin-1 count, so we never send what KMS would refuse for size.
# The price: each U+0080..U+00FF character counts 2, so a policy within that many bytes of the limit
# is refused by us although KMS might take it. KMS's own LimitExceededException maps to the same error.
MAX_POLICY_BYTES = 32_768
MAX_WRITES = 3
# Unique ids (AROA... roles, AIDA... users) appear where a principal was deleted after the policy
# named it. KMS then refuses every PutKeyPolicy until someone removes them.
ORPHANED_PRINCIPAL = re.compile(r"^A(RO|ID)A[A-Z0-9]{12,}$")
DENY_ALTERNATIVES = "Add the statement from the management account with the command in this step's detail."
# PutKeyPolicy raised one of these after sending: the write may have landed, so we re-read and compare.
LOST_RESPONSE = (ReadTimeoutError, EndpointConnectionError, ConnectionClosedError)

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
    # The Log Archive stack asking. Stacks deployed before the Sid came from the role and the key
    # (naming.key_statement_sid) wrote the same statement under a Sid derived from their stack id: the
    # next apply renames that one in place (legacy_sid).
    stack_id: str = ""

    @property
    def legacy_sid(self) -> str:
        legacy = owned_id(self.stack_id) if self.stack_id else ""
        return legacy if legacy != self.sid else ""


# CloudTrail encrypts every log file with the encryption context aws:cloudtrail:arn = the trail's ARN,
# and S3 passes that stored context to KMS when it decrypts the object for a GetObject, so a reader's
# Decrypt can be held to CloudTrail's objects (AWS CloudTrail user guide, "Configure AWS KMS key
# policies for CloudTrail": its decrypt statements for readers of the log bucket test
# kms:EncryptionContext:aws:cloudtrail:arn, its encrypt statement names the trails of an account with
# StringLike arn:aws:cloudtrail:*:<account>:trail/*;
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
# An organization trail belongs to the management account, and Control Tower keeps the trail's key in
# that account (Control Tower user guide, "Optionally configure AWS KMS keys"), so the key's account is
# the owner of the trails we name.
ENCRYPTION_CONTEXT_KEY = "kms:EncryptionContext:aws:cloudtrail:arn"


def our_statement(target: Target) -> Statement:
    # kms:ViaService limits the grant to decrypting log objects as S3 serves them to the role, and the
    # encryption context to objects CloudTrail encrypted for the organization's trails: the role never
    # needs the key for anything else, so a leaked session cannot decrypt other data under the key.
    trails = f"arn:{target.partition}:cloudtrail:*:{key_account(target.key_arn)}:trail/*"
    return {
        "Sid": target.sid,
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{target.partition}:iam::{target.log_archive_account}:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": target.expel_role_arn},
            "StringEquals": {"kms:ViaService": f"s3.{target.region}.amazonaws.com"},
            "StringLike": {ENCRYPTION_CONTEXT_KEY: trails},
        },
    }


# --- The document view: what the policy means. The step edits text (below) and checks every edit
# --- against these.


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
    """A whole policy as new text: readable when it fits the limit, compact when only that fits.

    The step never uses this on a policy it read (it splices text instead). Characters KMS accepts
    (up to U+00FF) stay literal; only those above are escaped.
    """
    readable = _kms_characters(json.dumps(policy, indent=2, ensure_ascii=False))
    if size(readable) <= MAX_POLICY_BYTES:
        return readable
    return _kms_characters(json.dumps(policy, separators=(",", ":"), ensure_ascii=False))


_ABOVE_LATIN_1 = re.compile("[^\x00-\xff]")


def _kms_characters(text: str) -> str:
    """JSON text with every character KMS refuses (above U+00FF) written as its \\u escape."""
    return _ABOVE_LATIN_1.sub(lambda found: json.dumps(found.group())[1:-1], text)


def size(text: str) -> int:
    """The size KMS's limit applies to, counted as MAX_POLICY_BYTES explains: UTF-8 bytes."""
    return len(text.encode("utf-8"))


def orphaned_principals(policy: Policy) -> list[str]:
    """Deleted principals' unique ids, under Principal or NotPrincipal, in the order they appear."""
    found: list[str] = []
    statements: list[Any] = statements_of(policy)  # what KMS stored: not always objects
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        for element in ("Principal", "NotPrincipal"):
            principal = statement.get(element)
            if not isinstance(principal, dict):
                continue
            values = principal.get("AWS", [])
            for value in values if isinstance(values, list) else [values]:
                if ORPHANED_PRINCIPAL.match(str(value)) and str(value) not in found:
                    found.append(str(value))
    return found


# --- The text view: a small scanner that finds the spans (start, end) of values in the text. It
# --- walks the container syntax itself (whitespace, commas, colons, brackets) at the levels we edit,
# --- and lets the standard library's JSON decoder read each value: raw_decode(text, index) returns
# --- the value and where it ends, so strings and their escapes are handled by the same parser that
# --- validates the text. No edit is ever made by substituting patterns in JSON.

_WHITESPACE = " \t\n\r"


class Span(NamedTuple):
    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start : self.end]


class Member(NamedTuple):
    key: Span
    name: str
    value: Span
    parsed: Any


def skip_whitespace(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


class Scanner:
    """Spans and values in one JSON text, and what a lenient reading hides: the pairs of every
    object that repeats a key, by the id of the dict json made of it (the last copy wins)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.repeating: dict[int, list[tuple[str, Any]]] = {}
        # strict=False: KMS may store a tab inside a string; we read what it stores.
        self._decoder = json.JSONDecoder(object_pairs_hook=self._pairs, strict=False)

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        parsed = dict(pairs)
        if len(parsed) != len(pairs):
            self.repeating[id(parsed)] = pairs
        return parsed

    def _expect(self, index: int, allowed: str) -> int:
        """The index of the next non-blank character, which must be one of allowed."""
        index = skip_whitespace(self.text, index)
        if index >= len(self.text) or self.text[index] not in allowed:
            raise ValueError(f"expected one of {allowed!r} at {index}")
        return index

    def value(self, start: int) -> tuple[Any, Span]:
        """The value that starts at text[start] (no whitespace before it), and its span."""
        parsed, end = self._decoder.raw_decode(self.text, start)
        return parsed, Span(start, end)

    def elements(self, start: int) -> tuple[list[tuple[Any, Span]], int]:
        """The values and spans of the elements of the array at text[start], and the index of its ']'."""
        found: list[tuple[Any, Span]] = []
        index = skip_whitespace(self.text, start + 1)
        if self.text[index : index + 1] == "]":
            return found, index
        while True:
            found.append(self.value(index))
            index = self._expect(found[-1][1].end, ",]")
            if self.text[index] == "]":
                return found, index
            index = skip_whitespace(self.text, index + 1)

    def members(self, start: int, *, skip: str = "") -> tuple[list[Member], int]:
        """The members of the object at text[start] and the index of its '}'. The value of a member
        named skip is only measured, not read: the caller reads it its own way."""
        found: list[Member] = []
        index = skip_whitespace(self.text, start + 1)
        if self.text[index : index + 1] == "}":
            return found, index
        while True:
            name, key = self.value(self._expect(index, '"'))
            value_start = skip_whitespace(self.text, self._expect(key.end, ":") + 1)
            if name == skip:
                parsed, value = None, Span(value_start, value_end(self.text, value_start))
            else:
                parsed, value = self.value(value_start)
            found.append(Member(key, name, value, parsed))
            index = self._expect(value.end, ",}")
            if self.text[index] == "}":
                return found, index
            index = skip_whitespace(self.text, index + 1)


_PLAIN = json.JSONDecoder(strict=False)


def value_end(text: str, start: int) -> int:
    """The index after the JSON value that starts at text[start]."""
    return int(_PLAIN.raw_decode(text, start)[1])


def array_elements(text: str, start: int) -> tuple[list[Span], int]:
    """The spans of the elements of the array at text[start], and the index of its ']'."""
    found, closing = Scanner(text).elements(start)
    return [span for _, span in found], closing


def object_members(text: str, start: int) -> tuple[list[Member], int]:
    """The members of the object at text[start], and the index of its '}'."""
    return Scanner(text).members(start)


def line_indent(text: str, index: int) -> str:
    """The spaces and tabs that begin the line holding text[index]."""
    line_start = text.rfind("\n", 0, index) + 1
    end = line_start
    while end < index and text[end] in " \t":
        end += 1
    return text[line_start:end]


@dataclass(frozen=True)
class Style:
    """How an object is laid out: one line (newline "") or one member per line, indented by unit."""

    newline: str
    unit: str
    key_separator: str
    item_separator: str


COMPACT = Style(newline="", unit="", key_separator=":", item_separator=",")


def style_of(text: str, start: int) -> Style | None:
    """The layout of the object at text[start], or None when it has too few members to tell."""
    members, _ = object_members(text, start)
    if not members:
        return None
    key_separator = text[members[0].key.end : members[0].value.start]
    if "\n" in key_separator:
        key_separator = ": "
    opening = text[start + 1 : members[0].key.start]
    if "\n" in opening:
        newline = "\r\n" if "\r\n" in opening else "\n"
        member_indent = opening.rsplit("\n", 1)[1]
        base = line_indent(text, start)
        unit = member_indent[len(base) :] if member_indent.startswith(base) else member_indent
        return Style(newline, unit or "  ", key_separator, ",")
    if len(members) < 2:
        return None
    item_separator = text[members[0].value.end : members[1].key.start]
    return Style("", "", key_separator, item_separator if "\n" not in item_separator else ", ")


def render(statement: Statement, style: Style, base: str) -> str:
    """Our statement's text in the given style, its lines after the first indented from base."""
    if style.newline:
        text = json.dumps(statement, indent=style.unit, separators=(",", style.key_separator))
        return text.replace("\n", style.newline + base)
    return json.dumps(statement, separators=(style.item_separator, style.key_separator))


class Element(NamedTuple):
    """One statement in the text: where it is, what it says, and what a lenient reader would hide."""

    span: Span
    value: Any
    sids: tuple[Any, ...]  # every "Sid" the statement's own object names; more than one is ambiguous
    duplicate_keys: tuple[str, ...]  # keys named twice in any object of the statement

    @property
    def sid(self) -> Any:
        return self.value.get("Sid") if isinstance(self.value, dict) else None


@dataclass(frozen=True)
class PolicyText:
    """A key policy as KMS stores it: the text, its meaning, and the spans of its statements."""

    text: str
    document: Policy
    statement: Span  # the Statement member's value: an array, or a single object
    single: bool  # Statement is one object, not an array
    elements: tuple[Element, ...]
    duplicate_keys: tuple[str, ...]  # keys named twice outside the statements

    def label(self, index: int) -> str:
        """How a sentence starts that names a statement: by its Sid, or by its place when it has none."""
        sid = self.elements[index].sid
        if sid is None:
            return f"Statement {index + 1} (it has no Sid)"
        return f"The statement with Sid {json.dumps(sid, ensure_ascii=False)}"

    def ours(self, sid: str) -> list[int]:
        return [index for index, element in enumerate(self.elements) if sid in element.sids]

    def array_bounds(self) -> tuple[int, int]:
        """The indexes of the Statement array's '[' and ']'."""
        return self.statement.start, self.statement.end - 1


def _objects_in(value: Any) -> list[Any]:
    """value and every object and list nested in it."""
    found = [value]
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else []:
        found += _objects_in(item)
    return found


def _repeated_keys(value: Any, repeating: dict[int, list[tuple[str, Any]]]) -> tuple[str, ...]:
    if not repeating:
        return ()
    keys: dict[str, None] = {}
    for inner in _objects_in(value):
        pairs = repeating.get(id(inner)) if isinstance(inner, dict) else None
        names = [key for key, _ in pairs or []]
        keys.update(dict.fromkeys(key for key in names if names.count(key) > 1))
    return tuple(keys)


def _element(span: Span, value: Any, repeating: dict[int, list[tuple[str, Any]]]) -> Element:
    pairs = repeating.get(id(value)) if isinstance(value, dict) else None
    if pairs is not None:
        sids = tuple(sid for key, sid in pairs if key == "Sid")
    else:
        sids = (value["Sid"],) if isinstance(value, dict) and "Sid" in value else ()
    return Element(span, value, sids, _repeated_keys(value, repeating))


def parse(text: str, key_arn: str = "the key") -> PolicyText:
    """The policy's text with the spans we edit. Refuses text whose Statement we cannot find."""
    fix = (
        "its owners should make the policy a JSON object with a Statement list (KMS requires one), "
        "then re-run this step."
    )
    try:
        document = json.loads(text, strict=False)
    except (ValueError, RecursionError) as exc:
        raise KeyPolicyNotEditable(f"The policy of {key_arn} is not valid JSON ({exc}).", fix) from exc
    if not isinstance(document, dict):
        raise KeyPolicyNotEditable(f"The policy of {key_arn} is JSON but not an object.", fix)
    scanner = Scanner(text)
    members, _ = scanner.members(skip_whitespace(text, 0), skip="Statement")
    names = [member.name for member in members]
    if names.count("Statement") > 1:
        raise KeyPolicyAmbiguous(
            f"The policy of {key_arn} has {names.count('Statement')} Statement keys; JSON readers disagree on "
            "which one counts (Python keeps the last), so we cannot tell what the policy grants.",
            "its owners should merge them into one Statement list, then re-run this step.",
        )
    if "Statement" not in names:
        raise KeyPolicyNotEditable(f"The policy of {key_arn} has no Statement.", fix)
    span = members[names.index("Statement")].value
    if text[span.start] == "[":
        found = scanner.elements(span.start)[0]
    elif text[span.start] == "{":
        found = [scanner.value(span.start)]
    else:
        raise KeyPolicyNotEditable(f"The Statement of the policy of {key_arn} is neither a list nor an object.", fix)
    elements = tuple(_element(element, value, scanner.repeating) for value, element in found)
    outside = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    for member in members:
        outside += _repeated_keys(member.parsed, scanner.repeating)
    return PolicyText(text, document, span, text[span.start] == "{", elements, tuple(dict.fromkeys(outside)))


def _ambiguities(policy: PolicyText, sid: str, key_arn: str) -> tuple[list[str], list[str]]:
    """What a lenient JSON reader would hide: (about our statement, about everyone else's)."""
    ours: list[str] = []
    theirs: list[str] = []
    mine = policy.ours(sid)
    if len(mine) > 1:
        ours.append(f"{len(mine)} statements in the policy of {key_arn} carry our Sid {sid}.")
    for index, element in enumerate(policy.elements):
        if len(element.sids) > 1:
            where = ours if sid in element.sids else theirs
            named = ", ".join(json.dumps(s, ensure_ascii=False) for s in element.sids)
            where.append(
                f"Statement {index + 1} of the policy of {key_arn} names Sid {len(element.sids)} times ({named})."
            )
        elif element.duplicate_keys and index not in mine:
            keys = ", ".join(json.dumps(key, ensure_ascii=False) for key in element.duplicate_keys)
            theirs.append(f"{policy.label(index)} in the policy of {key_arn} names the key {keys} twice.")
    counted: dict[Any, int] = {}
    for element in policy.elements:
        if element.sid is not None and element.sid != sid and len(element.sids) == 1:
            counted[json.dumps(element.sid)] = counted.get(json.dumps(element.sid), 0) + 1
    for sid_text, count in counted.items():
        if count > 1:
            shown = json.dumps(json.loads(sid_text), ensure_ascii=False)
            theirs.append(f"{count} statements in the policy of {key_arn} share the Sid {shown}.")
    if policy.duplicate_keys:
        keys = ", ".join(json.dumps(key, ensure_ascii=False) for key in policy.duplicate_keys)
        theirs.append(f"The policy of {key_arn} names the key {keys} twice outside its statements.")
    return ours, theirs


AMBIGUITY_FIX = (
    "its owners should keep one of each (the one they mean) and give every statement its own Sid; we do not "
    "guess which copy KMS enforces. Then re-run this step."
)


def check_identifiable(policy: PolicyText, sid: str, key_arn: str = "the key") -> None:
    """Refuse a policy in which we cannot tell which statement is ours."""
    ours, _ = _ambiguities(policy, sid, key_arn)
    if ours:
        raise KeyPolicyAmbiguous(
            " ".join(ours),
            f"keep exactly one statement with Sid {sid} (or none: re-running this step adds it back), and one "
            "Sid in each statement. Then re-run this step.",
        )


def check_unambiguous(policy: PolicyText, sid: str, key_arn: str = "the key") -> None:
    """Refuse to write a policy whose text means different things to different JSON readers."""
    check_identifiable(policy, sid, key_arn)
    _, theirs = _ambiguities(policy, sid, key_arn)
    if theirs:
        raise KeyPolicyAmbiguous(" ".join(theirs), AMBIGUITY_FIX)


def has_our_statement(policy: PolicyText, statement: Statement) -> bool:
    mine = policy.ours(statement["Sid"])
    return len(mine) == 1 and policy.elements[mine[0]].value == statement


def legacy_statement(policy: PolicyText, target: Target) -> list[int]:
    """Where our statement stands under the stack's former Sid: only a statement that is, but for its Sid,
    exactly ours (so a caller naming another stack's id can never take that stack's statement)."""
    if not target.legacy_sid:
        return []
    former = {**our_statement(target), "Sid": target.legacy_sid}
    return [index for index in policy.ours(target.legacy_sid) if policy.elements[index].value == former]


def converged(policy: PolicyText, target: Target, mode: Mode) -> bool:
    if legacy_statement(policy, target):
        return False
    if mode is Mode.REMOVE:
        return not policy.ours(target.sid)
    return has_our_statement(policy, our_statement(target))


@dataclass(frozen=True)
class Edit:
    """The text to send, and a sentence for the report when the edit changed more than our statement."""

    text: str
    note: str = ""


RESHAPED_NOTE = (
    "The policy's Statement was a single object, which cannot hold a second statement, so we made it a list "
    "with our statement first and that object's text unchanged after it; removing our statement makes it a "
    "single object again."
)
UNWRAPPED_NOTE = (
    "Statement held our statement first and one other statement, in exactly the list our apply makes from a "
    "single-object Statement, so we made Statement that single object again."
)


def _fallback_style(policy: PolicyText, indexes: list[int]) -> Style:
    """The first layout we can read: from the given statements, then from the policy's own object."""
    for index in indexes:
        element = policy.elements[index]
        if isinstance(element.value, dict):
            style = style_of(policy.text, element.span.start)
            if style is not None:
                return style
    return style_of(policy.text, skip_whitespace(policy.text, 0)) or COMPACT


def _wrap_separator(policy: PolicyText, index: int) -> str:
    """What goes between our statement and the single object it joins: a function of that object's text."""
    style = _fallback_style(policy, [index])
    return "," if not style.newline and style.item_separator == "," else ", "


def _checked(policy: PolicyText, text: str, statements: list[Any] | Any, note: str = "") -> Edit:
    """The edit, after proving it means the policy we intend: same keys, intended Statement."""
    expected = {**policy.document, "Statement": statements}
    try:
        actual = json.loads(text, strict=False)
    except ValueError as exc:
        actual = exc
    if actual != expected:
        raise KeyPolicyEditMismatch(
            "Our text edit of the key policy did not parse back to the intended policy, so nothing was written.",
            "report this with the policy text to the onboarding's maintainers; meanwhile add or remove the "
            "statement by hand with the command in this step's detail.",
        )
    return Edit(text, note)


def with_statement(policy: PolicyText, statement: Statement, former: list[int] | None = None) -> Edit:
    """The policy's text with our statement spliced in: in place of ours (or of our statement under its
    former Sid, the indexes in former), or after the last statement."""
    text = policy.text
    values = [element.value for element in policy.elements]
    mine = policy.ours(statement["Sid"]) or former or []
    if mine:
        element = policy.elements[mine[0]]
        style = _fallback_style(policy, [mine[0], *range(len(values) - 1, -1, -1)])
        ours = render(statement, style, line_indent(text, element.span.start))
        spliced = text[: element.span.start] + ours + text[element.span.end :]
        values[mine[0]] = statement
        return _checked(policy, spliced, statement if policy.single else values)
    if policy.single:
        theirs = policy.elements[0]
        style = _fallback_style(policy, [0])
        ours = render(statement, style, line_indent(text, theirs.span.start))
        wrapped = "[" + ours + _wrap_separator(policy, 0) + theirs.span.of(text) + "]"
        spliced = text[: theirs.span.start] + wrapped + text[theirs.span.end :]
        return _checked(policy, spliced, [statement, theirs.value], RESHAPED_NOTE)
    opening, _ = policy.array_bounds()
    if not policy.elements:
        style = _fallback_style(policy, [])
        ours = render(statement, style, line_indent(text, opening))
        return _checked(policy, text[: opening + 1] + ours + text[opening + 1 :], [statement])
    last = policy.elements[-1]
    style = _fallback_style(policy, list(range(len(values) - 1, -1, -1)))
    if len(policy.elements) > 1:
        separator = text[policy.elements[-2].span.end : last.span.start]
    else:
        # One statement shows no separator to copy: keep the whitespace after '[' (a newline and
        # the indentation, in a multi-line list), else separate as the policy's objects do.
        lead = text[opening + 1 : last.span.start]
        separator = "," + lead if lead else (", " if style.newline else style.item_separator)
    base = separator.rsplit("\n", 1)[1] if "\n" in separator else line_indent(text, last.span.start)
    ours = render(statement, style, base)
    spliced = text[: last.span.end] + separator + ours + text[last.span.end :]
    return _checked(policy, spliced, [*values, statement])


def without_statement(policy: PolicyText, sid: str, key_arn: str = "the key") -> Edit:
    """The policy's text with our statement cut out, and the text around it as it was before we came."""
    text = policy.text
    mine = policy.ours(sid)
    if not mine:
        return Edit(text)
    index = mine[0]
    elements = policy.elements
    if len(elements) == 1:
        raise KeyPolicyNotEditable(
            f"Our statement {sid} is the only statement in the policy of {key_arn}; without it the policy would "
            "grant nothing, and KMS refuses a policy that locks its caller out.",
            "its owners should add their own statements (for example the account root's kms:*), then re-run this step.",
        )
    values = [element.value for position, element in enumerate(elements) if position != index]
    opening, closing = policy.array_bounds()
    if len(elements) == 2 and index == 0:
        ours, theirs = elements
        if (
            isinstance(theirs.value, dict)
            and ours.span.start == opening + 1
            and theirs.span.end == closing
            and text[ours.span.end : theirs.span.start] == _wrap_separator(policy, 1)
        ):
            unwrapped = text[: policy.statement.start] + theirs.span.of(text) + text[policy.statement.end :]
            return _checked(policy, unwrapped, theirs.value, UNWRAPPED_NOTE)
    if index == len(elements) - 1:
        cut = Span(elements[index - 1].span.end, elements[index].span.end)
    else:
        cut = Span(elements[index].span.start, elements[index + 1].span.start)
    return _checked(policy, text[: cut.start] + text[cut.end :], values)


def apply_text(text: str, statement: Statement) -> str:
    """text with our statement in place (see with_statement); the same text when it already is."""
    policy = parse(text)
    return text if has_our_statement(policy, statement) else with_statement(policy, statement).text


def remove_text(text: str, sid: str) -> str:
    """text without our statement (see without_statement); the same text when it never had it."""
    return without_statement(parse(text), sid).text


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


def refused(target: Target, error: KeyPolicyAmbiguous | KeyPolicyNotEditable) -> StepReport:
    """ACTION_REQUIRED for a policy we will not edit. No jq command here: jq would hide the same problem."""
    return StepReport(
        STEP,
        Status.ACTION_REQUIRED,
        str(error),
        {"KeyArn": target.key_arn, "Sid": target.sid, "Statement": our_statement(target)},
    )


def key_account(key_arn: str) -> str:
    return key_arn.split(":")[4]


def not_encrypted() -> StepReport:
    return StepReport(STEP, Status.OK, "The logs are SSE-S3 encrypted: there is no key policy to change.", {})


# How the Log Archive side calls a function: its JSON answer, and its FunctionError ("" when it succeeded).
Invoke = Callable[[str, Mapping[str, Any]], tuple[Any, str]]


@dataclass(frozen=True)
class Delegate:
    """The management account's key-policy delegate (org/management.yaml), reached through Lambda.

    It answers with the same StepReport the local path makes, and fails with the same error classes
    (by name, as Step Functions matches them); what it refuses is DelegateRefused."""

    function_arn: str
    invoke: Invoke

    def call(self, operation: str, target: Target) -> dict[str, Any]:
        request = {
            "Operation": operation,
            "KeyArn": target.key_arn,
            "Sid": target.sid,
            "ExpelRoleArn": target.expel_role_arn,
            "Region": target.region,
            "StackId": target.stack_id,
        }
        answer, function_error = self.invoke(self.function_arn, request)
        if function_error:
            raise delegate_error(answer, self.function_arn)
        if not isinstance(answer, dict) or not isinstance(answer.get("Report"), dict):
            raise DelegateFailed(
                f"The key-policy delegate {self.function_arn} answered {answer!r}, not a step report.",
                "deploy the org/ stack from the same release as this stack, then re-run.",
            )
        return answer

    def run(self, target: Target, mode: Mode, *, preflight: bool = False) -> StepReport:
        operation = {Mode.REMOVE: "remove", Mode.CHECK: "read"}.get(mode, "apply")
        if preflight and mode is not Mode.CHECK:
            operation = f"plan-{operation}"
        report = self.call(operation, target)["Report"]
        return StepReport(
            str(report["Name"]),
            Status(report["Status"]),
            str(report["Detail"]),
            report.get("Data", {}),
            report.get("Undo"),
        )


def delegate_error(answer: Any, function_arn: str) -> Exception:
    """The delegate's function error as the error it was there: our classes keep their names."""
    answer = answer if isinstance(answer, dict) else {}
    name, message = str(answer.get("errorType", "")), str(answer.get("errorMessage", ""))
    if name == AwsThrottled.__name__:
        # AWS throttled the delegate's own calls beyond its retries: a throttle here too, which the run retries.
        return AwsThrottled(f"The key-policy delegate {function_arn} was throttled: {message}")
    found = getattr(errors, name, None)
    if isinstance(found, type) and issubclass(found, OnboardingError):
        said, _, fix = message.partition(" To fix it: ")
        return found(said, fix or "read the delegate's log in the management account, then re-run.")
    return DelegateFailed(
        f"The key-policy delegate {function_arn} failed: {name or 'no error type'}: {message}",
        "read its log in the management account (CloudWatch Logs, the delegate's log group), fix the cause and re-run.",
    )


def run(
    target: Target,
    mode: Mode,
    *,
    delegate_arn: str,
    local_kms: Callable[[], KMSClient],
    invoke: Invoke,
    preflight: bool = False,
) -> StepReport:
    """Converge from the key's own account: here, or through its delegate; or say exactly what to do there.
    A preflight makes every read and check of the write, and no write."""
    account = key_account(target.key_arn)
    if account == target.log_archive_account:
        return converge(local_kms(), target, mode, preflight=preflight)
    if not delegate_arn:
        why = (
            f"The key is in account {account}, where only that account can edit its policy, and no "
            "KeyPolicyDelegateArn was given (the org/ template creates that delegate)."
        )
        return action_required(target, why, mode)
    try:
        return Delegate(delegate_arn, invoke).run(target, mode, preflight=preflight)
    except DelegateRefused as exc:
        why = f"The key is in account {account} and its key-policy delegate {delegate_arn} refused our request: {exc}"
        return action_required(target, why, mode)
    except ClientError as exc:
        if throttle_of(exc):
            raise translate(exc, "lambda:InvokeFunction", delegate_arn, DENY_ALTERNATIVES) from exc
        why = (
            f"The key is in account {account} and its key-policy delegate {delegate_arn} could not be invoked ({exc})."
        )
        return action_required(target, why, mode)


def checker(
    target: Target, delegate_arn: str, local_kms: Callable[[], KMSClient], invoke: Invoke
) -> Callable[[], StepReport] | None:
    """The read-only check of our statement, from the key's account (here, or through the delegate's read-only
    alias, which answers reads only), or None when neither can reach the key."""
    if key_account(target.key_arn) == target.log_archive_account:
        return lambda: converge(local_kms(), target, Mode.CHECK)
    if not delegate_arn:
        return None
    return partial(Delegate(delegate_reader_arn(delegate_arn), invoke).run, target, Mode.CHECK)


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


def read(kms: KMSClient, target: Target) -> Policy:
    policy: Policy = json.loads(read_text(kms, target))
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


def too_large(target: Target, body: str, kms_said: str = "") -> KeyPolicyTooLarge:
    """The refusal for a policy over the limit. We never reformat other teams' text to make room."""
    said = f" KMS answered: {kms_said}" if kms_said else ""
    compact = size(
        _kms_characters(json.dumps(json.loads(body, strict=False), separators=(",", ":"), ensure_ascii=False))
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


def edit_for(policy: PolicyText, target: Target, mode: Mode) -> Edit:
    former = legacy_statement(policy, target)
    if former and (mode is Mode.REMOVE or policy.ours(target.sid)):
        # One statement at a time: the former one goes first, the loop in _converge does the rest.
        return without_statement(policy, target.legacy_sid, target.key_arn)
    if mode is Mode.REMOVE:
        return without_statement(policy, target.sid, target.key_arn)
    # Renamed in place: the policy never holds two copies of the grant, not even for one write.
    return with_statement(policy, our_statement(target), former)


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


def _converge(kms: KMSClient, target: Target, mode: Mode, *, preflight: bool) -> StepReport:
    data = {"KeyArn": target.key_arn, "Sid": target.sid}
    policy = parse(read_text(kms, target), target.key_arn)
    check_identifiable(policy, target.sid, target.key_arn)
    # Only a statement this run adds is undone by removing it; one it corrected stays corrected.
    # A statement renamed from its former Sid was there before the run: removing it is no undo.
    added = not policy.ours(target.sid) and not legacy_statement(policy, target)
    undo = {"Remove": True} if mode is not Mode.REMOVE and added else None
    if converged(policy, target, mode):
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
        check_unambiguous(policy, target.sid, target.key_arn)
        edit = edit_for(policy, target, mode)
        check_writable(edit, target)
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
