"""localaws.step_functions_speedups changes what moto's Step Functions interpreter spends, never what a run
does."""

from __future__ import annotations

import json

import pytest
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException
from moto.stepfunctions.parser.asl.utils import json_path

from localaws import step_functions_speedups

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def test_a_definition_is_parsed_once_and_a_broken_one_is_refused_every_time() -> None:
    text = json.dumps(PASS)
    assert AmazonStateLanguageParser.parse(text)[0] is AmazonStateLanguageParser.parse(text)[0]
    other = json.dumps({**PASS, "Comment": "another text"})
    assert AmazonStateLanguageParser.parse(other)[0] is not AmazonStateLanguageParser.parse(text)[0]
    for _ in range(2):
        with pytest.raises(ASLParserException):
            AmazonStateLanguageParser.parse('{"StartAt": "Done", "States": ')


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
