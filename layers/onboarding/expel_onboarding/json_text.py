"""A generic splicer of JSON text: the spans (start, end) of values in the text, the layout of an object,
and a value rendered in that layout. It edits JSON the way a person would, leaving every other character as
it was; expel_onboarding.key_policy uses it on key policies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

# A small scanner finds the spans (start, end) of values in the text. It walks the container syntax
# itself (whitespace, commas, colons, brackets) at the levels we edit, and lets the standard library's
# JSON decoder read each value: raw_decode(text, index) returns the value and where it ends, so strings and
# their escapes are handled by the same parser that validates the text. No edit is ever made by substituting
# patterns in JSON.

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


def render(value: Any, style: Style, base: str) -> str:
    """value's JSON text in the given style, its lines after the first indented from base."""
    if style.newline:
        text = json.dumps(value, indent=style.unit, separators=(",", style.key_separator))
        return text.replace("\n", style.newline + base)
    return json.dumps(value, separators=(style.item_separator, style.key_separator))
