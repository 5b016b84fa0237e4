"""localaws.step_functions_speedups changes what moto's Step Functions interpreter spends, never what a run
does."""

from __future__ import annotations

import copy
import datetime
import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localaws import replacements
from tests.support.speedup_targets import skip_unless_fitting

skip_unless_fitting(
    "step-functions-parse-cached",
    "step-functions-json-paths-cached",
    "step-functions-result-paths-cached",
    "step-functions-json-copies",
)

from moto.stepfunctions.parser.asl.component.common.path import result_path  # noqa: E402 - after the fit check
from moto.stepfunctions.parser.asl.eval import states  # noqa: E402
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException  # noqa: E402
from moto.stepfunctions.parser.asl.utils import json_path  # noqa: E402

from localaws import step_functions_speedups  # noqa: E402

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
# Text from a few characters (JSON's awkward ones among them): Hypothesis's default alphabet has it read the
# Unicode tables first, seconds in a fresh clone, and a copy never looks inside a string.
TEXT = st.text(alphabet='az"\\/\n\u00e9\u2019', max_size=5)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


# These tests show a speedup in place; with LOCALAWS_SPEEDUPS=off (make test-no-speedups) none is.
applied_only = pytest.mark.skipif(not replacements.speedups_on(), reason="LOCALAWS_SPEEDUPS=off: no speedup is applied")


@applied_only
def test_a_definition_is_parsed_once_and_a_broken_one_is_refused_every_time() -> None:
    text = json.dumps(PASS)
    assert AmazonStateLanguageParser.parse(text)[0] is AmazonStateLanguageParser.parse(text)[0]
    other = json.dumps({**PASS, "Comment": "another text"})
    assert AmazonStateLanguageParser.parse(other)[0] is not AmazonStateLanguageParser.parse(text)[0]
    for _ in range(2):
        with pytest.raises(ASLParserException):
            AmazonStateLanguageParser.parse('{"StartAt": "Done", "States": ')


@applied_only
def test_a_json_path_is_parsed_once_and_finds_and_updates_as_a_fresh_parse_does() -> None:
    document = {"Records": [{"s3": {"key": "a"}}, {"s3": {"key": "b"}}], "Kept": 1}
    for path in ["$.Records[*].s3.key", "$.Records[1]", "$"]:
        parsed = json_path.parse(path)
        assert parsed is json_path.parse(path)
        fresh = step_functions_speedups._JSON_PATH_PARSE(path)
        assert [m.value for m in parsed.find(document)] == [m.value for m in fresh.find(document)]
    result = result_path.parse("$.Outputs")
    assert result is result_path.parse("$.Outputs")
    assert result.update_or_create({"Kept": 1}, {"Id": 2}) == {"Kept": 1, "Outputs": {"Id": 2}}
    assert result.update_or_create({"Kept": 3}, {"Id": 4}) == {"Kept": 3, "Outputs": {"Id": 4}}


@given(JSON)
def test_a_json_value_is_copied_equal_and_apart_as_deepcopy_copies_it(value: Any) -> None:
    copied = step_functions_speedups.deepcopy(value)
    assert copied == copy.deepcopy(value)
    assert json.dumps(copied, sort_keys=True) == json.dumps(value, sort_keys=True)
    containers = [item for item in _walk(value) if isinstance(item, (dict, list))]
    assert not {id(item) for item in containers} & {id(item) for item in _walk(copied)}


def _walk(value: Any) -> list[Any]:
    found = [value]
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children:
        found.extend(_walk(child))
    return found


def test_anything_but_json_is_copied_by_copy_deepcopy() -> None:
    when = datetime.datetime(2026, 11, 28, tzinfo=datetime.UTC)
    value = {"Events": [{"timestamp": when, "details": {"input": "{}"}}], "Kept": (1, [2])}
    copied = step_functions_speedups.deepcopy(value)
    assert copied == value
    assert copied["Events"][0] is not value["Events"][0]
    assert copied["Kept"][1] is not value["Kept"][1]
    memo: dict[int, Any] = {}
    shared = [1]
    assert step_functions_speedups.deepcopy([shared, shared], memo) == [[1], [1]]
    assert memo, "with a memo (inside another deepcopy), copy.deepcopy does the copy"


COPYING_MODULES = [
    importlib.import_module(target.split(":")[0])
    for target in replacements.BY_NAME["step-functions-json-copies"].targets
]


@applied_only
def test_the_interpreter_copies_with_it_while_the_emulator_runs() -> None:
    assert all(module.copy.deepcopy is step_functions_speedups.deepcopy for module in COPYING_MODULES)
    assert states.copy.deepcopy({"a": [1]}) == {"a": [1]}


@pytest.mark.parametrize("module", COPYING_MODULES, ids=lambda module: module.__name__.rsplit(".", 1)[1])
def test_each_copying_module_uses_copy_for_deepcopy_only(module: Any) -> None:
    source = Path(module.__file__).read_text(encoding="utf-8")
    uses = set(re.findall(r"\bcopy\.(\w+)", source))
    assert uses == {"deepcopy"}, module.__name__
