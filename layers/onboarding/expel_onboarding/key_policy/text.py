"""The policy's TEXT, not a parsed copy of it: our statement is spliced into the Statement array in the
array's own style and cut out again the same way (expel_onboarding.json_text), so every other character stays
as its owners wrote it and removal gives back the text we found, byte for byte. Every edit is checked
against what the edited text means."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from expel_onboarding import json_text
from expel_onboarding.errors import (
    KeyPolicyAmbiguous,
    KeyPolicyEditMismatch,
    KeyPolicyNotEditable,
)
from expel_onboarding.json_text import (
    COMPACT,
    Scanner,
    Span,
    Style,
    line_indent,
    skip_whitespace,
    style_of,
)
from expel_onboarding.key_policy.statement import (
    Policy,
    Statement,
    Target,
    our_statement,
)
from expel_onboarding.reports import Mode


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
        ours = json_text.render(statement, style, line_indent(text, element.span.start))
        spliced = text[: element.span.start] + ours + text[element.span.end :]
        values[mine[0]] = statement
        return _checked(policy, spliced, statement if policy.single else values)
    if policy.single:
        theirs = policy.elements[0]
        style = _fallback_style(policy, [0])
        ours = json_text.render(statement, style, line_indent(text, theirs.span.start))
        wrapped = "[" + ours + _wrap_separator(policy, 0) + theirs.span.of(text) + "]"
        spliced = text[: theirs.span.start] + wrapped + text[theirs.span.end :]
        return _checked(policy, spliced, [statement, theirs.value], RESHAPED_NOTE)
    opening, _ = policy.array_bounds()
    if not policy.elements:
        style = _fallback_style(policy, [])
        ours = json_text.render(statement, style, line_indent(text, opening))
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
    ours = json_text.render(statement, style, base)
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


def edit_for(policy: PolicyText, target: Target, mode: Mode) -> Edit:
    former = legacy_statement(policy, target)
    if former and (mode is Mode.REMOVE or policy.ours(target.sid)):
        # One statement at a time: the former one goes first, the loop in _converge does the rest.
        return without_statement(policy, target.legacy_sid, target.key_arn)
    if mode is Mode.REMOVE:
        return without_statement(policy, target.sid, target.key_arn)
    # Renamed in place: the policy never holds two copies of the grant, not even for one write.
    return with_statement(policy, our_statement(target), former)
