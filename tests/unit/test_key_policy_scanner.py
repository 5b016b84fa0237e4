"""The scanner finds each value's exact span in JSON text, whatever the strings inside hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expel_onboarding.json_text import Scanner, Span, array_elements, object_members, value_end
from tests.unit.strategies import JSON_AWKWARD, LATIN_1

json_text = st.text(alphabet=st.sampled_from("ab " + LATIN_1[:8] + JSON_AWKWARD), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=12,
)
layouts = st.sampled_from([{"separators": (",", ":")}, {}, {"indent": 2}, {"indent": "\t"}])


@pytest.mark.parametrize(
    "value",
    [
        '"a \\" quote"',
        '"a backslash at the end \\\\"',
        '"brackets ] } [ { and , : inside"',
        '"an escaped bracket \\u005d and \\u0022"',
        '"Latin-1 literally: São Paulo ÿ"',
        '{"k": "v \\\\\\" still inside", "n": [1, {"x": "]"}]}',
        "-12.5e3",
        "true",
        "null",
    ],
)
def test_a_value_ends_where_json_says_it_ends(value: str) -> None:
    text = f"[{value} , 0]"
    assert value_end(text, 1) == 1 + len(value)


def test_array_elements_are_found_between_whitespace_and_commas() -> None:
    text = '[ {"Sid": "a,]"} ,\r\n\t"x\\"]" ,[1,[2]]\n]'
    spans, closing = array_elements(text, 0)
    assert [span.of(text) for span in spans] == ['{"Sid": "a,]"}', '"x\\"]"', "[1,[2]]"]
    assert closing == len(text) - 1


def test_object_members_give_each_key_and_value_span() -> None:
    text = '{ "Sid" :"x}", "Statement":\n[ ] }'
    members, closing = object_members(text, 0)
    assert [(m.name, m.key.of(text), m.value.of(text)) for m in members] == [
        ("Sid", '"Sid"', '"x}"'),
        ("Statement", '"Statement"', "[ ]"),
    ]
    assert closing == len(text) - 1


def test_an_empty_array_and_object_have_no_spans() -> None:
    assert array_elements("[ \n ]", 0) == ([], 4)
    assert object_members("{}", 0) == ([], 1)


def test_repeated_keys_are_recorded_with_every_copy() -> None:
    scanner = Scanner('{"Sid": "A", "Sid": "B"}')
    value, span = scanner.value(0)
    assert value == {"Sid": "B"}
    assert span == Span(0, 24)
    assert scanner.repeating[id(value)] == [("Sid", "A"), ("Sid", "B")]


@settings(max_examples=500, deadline=None)
@given(st.lists(json_values, max_size=5), layouts)
def test_every_element_span_holds_exactly_that_elements_text(values: list[Any], layout: dict[str, Any]) -> None:
    text = json.dumps(values, ensure_ascii=False, **layout)
    spans, closing = array_elements(text, 0)
    assert [json.loads(span.of(text)) for span in spans] == values
    assert closing == len(text) - 1
    for span, value in zip(spans, values, strict=True):
        if isinstance(value, dict) and value:
            members, _ = object_members(text, span.start)
            assert {m.name: json.loads(m.value.of(text)) for m in members} == value
