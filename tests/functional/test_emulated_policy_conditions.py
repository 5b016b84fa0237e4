"""The local AWS's policy conditions hold where IAM's do (IAM user guide, "IAM JSON policy elements: Condition
operators" and "Set operators for multivalued context keys"): the Bool operator, a negated test on an absent key,
and ForAllValues and ForAnyValue on a multivalued key such as aws:CalledVia."""

from __future__ import annotations

import pytest

from localaws.policy_language import condition_holds

VIA_CLOUDFORMATION = {"aws:calledvia": ("cloudformation.amazonaws.com",)}
VIA_TWO = {"aws:calledvia": ("servicecatalog.amazonaws.com", "cloudformation.amazonaws.com")}


@pytest.mark.parametrize(
    ("operator", "context", "holds"),
    [
        # A direct call has no aws:CalledVia: ForAllValues holds for an absent key, ForAnyValue never does.
        ("ForAllValues:StringNotEquals", {}, True),
        ("ForAnyValue:StringEquals", {}, False),
        ("ForAllValues:StringNotEquals", VIA_CLOUDFORMATION, False),
        ("ForAnyValue:StringEquals", VIA_CLOUDFORMATION, True),
        ("ForAllValues:StringNotEquals", VIA_TWO, False),
        ("ForAnyValue:StringEquals", VIA_TWO, True),
        ("ForAllValues:StringNotEquals", {"aws:calledvia": ("athena.amazonaws.com",)}, True),
    ],
)
def test_set_operators_on_aws_called_via(operator: str, context: dict, holds: bool) -> None:
    assert condition_holds(operator, "aws:CalledVia", ("cloudformation.amazonaws.com",), context) is holds


@pytest.mark.parametrize(
    ("context", "holds"),
    [({"aws:principalisawsservice": "false"}, True), ({"aws:principalisawsservice": "true"}, False), ({}, False)],
)
def test_bool_compares_the_keys_value_and_fails_on_an_absent_key(context: dict, holds: bool) -> None:
    assert condition_holds("Bool", "aws:PrincipalIsAWSService", ("false",), context) is holds


def test_a_negated_test_holds_on_an_absent_key() -> None:
    assert condition_holds("ArnNotEquals", "aws:PrincipalArn", ("arn:aws:iam::123456789012:role/relay",), {})
