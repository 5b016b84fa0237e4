"""template.yaml sets exactly the environment the product reads: the contract is declared once, in
settings.py, and the template's Globals and each function's own Environment are held to it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from expel_onboarding import caches, custom_resource, settings
from expel_onboarding.errors import InvalidInput


def variables(properties: dict[str, Any]) -> set[str]:
    return set(properties.get("Environment", {}).get("Variables", {}))


def test_the_globals_set_every_variable_settings_reads_and_nothing_else(template: dict[str, Any]) -> None:
    expected = (set(settings.VARIABLES) - settings.SET_BY_LAMBDA) | settings.POWERTOOLS_VARIABLES
    assert variables(template["Globals"]["Function"]) == expected


def test_no_template_sets_a_variable_lambda_itself_sets(template: dict[str, Any]) -> None:
    functions = [r["Properties"] for r in template["Resources"].values() if r["Type"].endswith("::Function")]
    for properties in [template["Globals"]["Function"], *functions]:
        assert not variables(properties) & settings.SET_BY_LAMBDA


def test_each_functions_own_environment_is_its_declared_variables(template: dict[str, Any]) -> None:
    own = {
        name: variables(resource["Properties"]) - settings.POWERTOOLS_VARIABLES
        for name, resource in template["Resources"].items()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }
    assert {name: names for name, names in own.items() if names} == settings.FUNCTION_VARIABLES


def test_every_settings_field_is_filled_by_exactly_one_variable() -> None:
    fields = [field.name for field in dataclasses.fields(settings.Settings)]
    assert sorted(settings.VARIABLES.values()) == sorted(fields)


def test_a_missing_variable_of_the_contract_is_named_with_the_fix() -> None:
    environment = dict.fromkeys(settings.VARIABLES, "true") | {
        "DELIVERY_MODE": "auto",
        "REQUESTED_DELIVERY_MODE": "auto",
    }
    assert settings.Settings.from_environment(environment).fix_object_ownership is True
    del environment["QUEUE_URL"]
    with pytest.raises(InvalidInput, match="QUEUE_URL is not set"):
        settings.Settings.from_environment(environment)


def test_the_bridge_reads_the_variable_its_function_declares(monkeypatch: pytest.MonkeyPatch) -> None:
    (name,) = settings.FUNCTION_VARIABLES["BridgeFunction"]
    monkeypatch.delenv(name, raising=False)
    caches.reset()
    with pytest.raises(InvalidInput, match=name):
        custom_resource.bridge_settings()
    monkeypatch.setenv(name, "arn:aws:states:us-east-1:123456789012:stateMachine:onboarding")
    caches.reset()
    assert custom_resource.bridge_settings().state_machine_arn.endswith(":stateMachine:onboarding")
    caches.reset()
