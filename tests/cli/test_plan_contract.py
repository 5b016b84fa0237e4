"""What plan assumes of template.yaml, held to the template: its parameters, defaults and the names it predicts."""

from __future__ import annotations

import pytest

from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import InvalidInput
from expel_onboarding_cli import plan
from localaws import templates
from tests.support.cfn_template import ROOT

TEMPLATE = templates.read(ROOT / "template.yaml")


def test_plan_knows_every_parameter_of_the_template() -> None:
    planned = set(plan.template_values(plan.Parameters()))
    assert planned | set(plan.NOT_PLANNED) == set(TEMPLATE["Parameters"])
    assert not planned & set(plan.NOT_PLANNED)


def test_plans_defaults_are_the_templates() -> None:
    for name, value in plan.template_values(plan.Parameters()).items():
        assert TEMPLATE["Parameters"][name].get("Default", "") == value, name


def test_the_role_arn_plan_shows_is_the_one_the_stack_gives_its_functions() -> None:
    variable = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["EXPEL_ROLE_ARN"]
    assert variable["Fn::If"][2] == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExpelRoleName}"}
    role = TEMPLATE["Resources"]["ExpelRole"]["Properties"]
    assert role["RoleName"] == {"Ref": "ExpelRoleName"}
    assert "Path" not in role


def test_plan_reads_an_existing_stacks_topic_from_the_templates_resource() -> None:
    assert TEMPLATE["Resources"][plan.TOPIC_RESOURCE]["Type"] == "AWS::SNS::Topic"


def test_overrides_take_sam_deploys_names_and_keep_the_defaults_for_the_rest() -> None:
    given = plan.from_overrides(
        {"NotificationPrefix": "AWSLogs/", "DeliveryMode": "trail-topic", "WorkbenchExternalId": "x"}, "s"
    )
    assert given == plan.Parameters(
        stack_name="s", notification_prefix="AWSLogs/", delivery_mode=DeliveryMode.TRAIL_TOPIC
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"NotifcationPrefix": "AWSLogs/"}, "NotificationPrefix"),
        ({"DeliveryMode": "sideways"}, "auto, bucket-notification, trail-topic"),
        ({"FixObjectOwnership": "yes"}, "true or false"),
    ],
)
def test_a_wrong_override_is_refused_with_what_is_allowed(overrides: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        plan.from_overrides(overrides, "s")
