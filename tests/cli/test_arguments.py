"""The options every verb takes mean the same before the verb as after it, and their defaults hold when
given nowhere."""

from __future__ import annotations

import pytest

from expel_onboarding_cli import cli

GIVEN = [
    ("--stack-name", "other-stack", "stack_name"),
    ("--region", "eu-west-2", "region"),
    ("--profile", "admin", "profile"),
    ("--endpoint-url", "http://127.0.0.1:4566", "endpoint_url"),
    ("--output", "json", "output"),
]


@pytest.mark.parametrize(("option", "value", "dest"), GIVEN, ids=[option for option, _, _ in GIVEN])
@pytest.mark.parametrize("verb", ["plan", "check", "repair", "outputs", "freshness"])
def test_an_option_before_the_verb_is_the_same_as_after_it(option: str, value: str, dest: str, verb: str) -> None:
    before = cli.parser().parse_args([option, value, verb])
    after = cli.parser().parse_args([verb, option, value])
    assert getattr(before, dest) == getattr(after, dest) == value


def test_json_before_the_verb_is_output_json() -> None:
    assert cli.parser().parse_args(["--json", "outputs"]).output == "json"


def test_the_defaults_hold_when_no_option_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.LOCAL_ENDPOINT, raising=False)
    arguments = cli.parser().parse_args(["check"])
    assert (arguments.stack_name, arguments.region, arguments.output, arguments.endpoint_url) == (
        "expel-cloudtrail-onboarding",
        None,
        "table",
        None,
    )


def test_the_local_endpoint_variable_is_the_default_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.LOCAL_ENDPOINT, "http://127.0.0.1:4566")
    assert cli.parser().parse_args(["check"]).endpoint_url == "http://127.0.0.1:4566"
