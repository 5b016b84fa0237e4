"""The local CloudFormation refuses parameter values that break their constraints, as CloudFormation does:
a ValidationError from CreateStack or UpdateStack that names the parameter, and no stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localaws import clients, cloudformation, templates
from tests.support.cfn_template import ROOT

GUID = "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b"
PARAMETERS: dict[str, Any] = {
    "Name": {"Type": "String", "AllowedPattern": "^[a-z]+$", "MinLength": 3, "MaxLength": 8, "Default": "abc"},
    "Guid": {
        "Type": "String",
        "AllowedPattern": "^[0-9a-f-]{36}$",
        "ConstraintDescription": "must be your Workbench organization GUID.",
        "Default": GUID,
    },
    "Mode": {"Type": "String", "AllowedValues": ["auto", "manual"], "Default": "auto"},
    "Days": {"Type": "Number", "MinValue": 1, "MaxValue": 30, "Default": 7},
    "Prefixes": {"Type": "CommaDelimitedList", "AllowedPattern": "^[a-z]+/$", "Default": "logs/"},
}
TEMPLATE = json.dumps({"Parameters": PARAMETERS, "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}})


@pytest.fixture(autouse=True)
def local_cloudformation() -> Iterator[None]:
    with cloudformation.cloudformation_gaps():
        yield


def create(**values: str) -> dict[str, Any]:
    parameters = [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]
    return dict(clients.cloudformation().create_stack(StackName="s", TemplateBody=TEMPLATE, Parameters=parameters))


def refusal(**values: str) -> str:
    with pytest.raises(ClientError) as refused:
        create(**values)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert clients.cloudformation().list_stacks()["StackSummaries"] == []
    return str(error["Message"])


def test_values_within_every_constraint_create_the_stack() -> None:
    assert create(Name="abcd", Guid=GUID, Mode="manual", Days="30", Prefixes="logs/,audit/")["StackId"]


def test_a_value_that_does_not_match_the_whole_pattern_is_refused_naming_the_pattern() -> None:
    assert refusal(Name="abc1") == "Parameter 'Name' must match pattern ^[a-z]+$"


def test_a_constraint_description_takes_the_place_of_the_constraint_in_the_message() -> None:
    assert refusal(Guid="not-a-guid") == "Parameter 'Guid' must be your Workbench organization GUID."


def test_a_value_outside_the_allowed_values_is_refused() -> None:
    assert refusal(Mode="sometimes") == "Parameter 'Mode' must be one of AllowedValues"


def test_too_short_and_too_long_values_are_refused_with_the_limit() -> None:
    assert refusal(Name="ab") == "Parameter 'Name' must contain at least 3 characters"
    assert refusal(Name="abcdefghi") == "Parameter 'Name' must contain at most 8 characters"


def test_a_number_outside_its_range_or_not_a_number_is_refused() -> None:
    assert refusal(Days="0") == "Parameter 'Days' must be a number not less than 1"
    assert refusal(Days="31") == "Parameter 'Days' must be a number not greater than 30"
    assert refusal(Days="seven") == "Parameter 'Days' must be a number"


def test_each_value_of_a_comma_delimited_list_must_match_the_pattern() -> None:
    assert refusal(Prefixes="logs/,Audit") == "Parameter 'Prefixes' must match pattern ^[a-z]+/$"


def test_an_update_with_a_broken_value_is_refused_and_the_stack_keeps_its_value() -> None:
    create(Name="abcd")
    cloudformation_client = clients.cloudformation()
    with pytest.raises(ClientError, match="Parameter 'Name' must match pattern"):
        cloudformation_client.update_stack(
            StackName="s", TemplateBody=TEMPLATE, Parameters=[{"ParameterKey": "Name", "ParameterValue": "ABCD"}]
        )
    (stack,) = cloudformation_client.describe_stacks(StackName="s")["Stacks"]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Name"] == "abcd"


def test_template_yaml_refuses_a_workbench_external_id_that_is_not_a_guid() -> None:
    # The product's own constraint, through the same rule: its ConstraintDescription is the message.
    parameter = templates.read(ROOT / "template.yaml")["Parameters"]["WorkbenchExternalId"]
    template = json.dumps(
        {"Parameters": {"WorkbenchExternalId": parameter}, "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    )
    with pytest.raises(ClientError) as refused:
        clients.cloudformation().create_stack(
            StackName="s",
            TemplateBody=template,
            Parameters=[{"ParameterKey": "WorkbenchExternalId", "ParameterValue": "acme-corp"}],
        )
    assert refused.value.response["Error"]["Message"] == (
        f"Parameter 'WorkbenchExternalId' {' '.join(parameter['ConstraintDescription'].split())}"
    )
