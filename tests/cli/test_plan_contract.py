"""What plan assumes of template.yaml, held to the template: its parameters, defaults and the names it predicts."""

from __future__ import annotations

import re

import pytest
from moto.cloudformation.exceptions import ValidationError

from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import InvalidInput
from expel_onboarding_cli import plan, template_parameters
from localaws import parameter_constraints, templates
from tests.support.cfn_template import ROOT

TEMPLATE = templates.read(ROOT / "template.yaml")
GUID = "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b"


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
        {"NotificationPrefix": "AWSLogs/", "DeliveryMode": "trail-topic", "WorkbenchExternalId": GUID}, "s"
    )
    assert given == plan.Parameters(
        stack_name="s", notification_prefix="AWSLogs/", delivery_mode=DeliveryMode.TRAIL_TOPIC
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"NotifcationPrefix": "AWSLogs/"}, "NotificationPrefix"),
        ({"DeliveryMode": "sideways"}, "auto, bucket-notification, trail-topic"),
        ({"FixObjectOwnership": "yes"}, "true, false"),
    ],
)
def test_a_wrong_override_is_refused_with_what_is_allowed(overrides: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        plan.from_overrides(overrides, "s")


def test_an_existing_stacks_parameters_are_the_base_and_overrides_win() -> None:
    deployed = {
        "KeyPolicyDelegateArn": "arn:aws:lambda:us-east-1:111111111111:function:d",
        "DeliveryMode": "trail-topic",
    }
    given = plan.from_overrides({"DeliveryMode": "auto"}, "s", deployed)
    assert given.key_policy_delegate_arn == deployed["KeyPolicyDelegateArn"]
    assert given.delivery_mode is DeliveryMode.AUTO


# Each value the deploy is refused (CloudFormation's ValidationError, in the local AWS as in AWS), and the
# words of that refusal.
REFUSED = [
    ("WorkbenchExternalId", "acme-corp", "Parameter 'WorkbenchExternalId' must be your Workbench organization GUID"),
    ("WorkbenchExternalId", "", "Parameter 'WorkbenchExternalId' must be your Workbench organization GUID"),
    ("DriftCheckSchedule", "daily", "Parameter 'DriftCheckSchedule' must be a Scheduler expression"),
    ("ExpelPrincipalArn", "someone", "Parameter 'ExpelPrincipalArn' must be an IAM user, role or account-root ARN"),
    ("CloudTrailKeyArn", "garbage", "Parameter 'CloudTrailKeyArn' must be empty (discover it) or a KMS key ARN"),
    ("KeyPolicyDelegateArn", "arn:aws:lambda:us-east-1:1:function:f:reader", "Parameter 'KeyPolicyDelegateArn' must"),
    ("LogBucketName", "Logs", "Parameter 'LogBucketName' must be empty (use the Control Tower bucket)"),
    ("AlarmEmail", "secops", "Parameter 'AlarmEmail' must be empty or an email address"),
    ("ExpelRoleName", "role/Expel", "Parameter 'ExpelRoleName' must be an IAM role name"),
]


@pytest.mark.parametrize(("name", "value", "message"), REFUSED)
def test_plan_refuses_what_cloudformation_refuses_in_its_words(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        plan.checked({name: value})
    assert str(refused.value).startswith(f"CloudFormation would refuse the deploy: {message}")
    assert f"--parameter-overrides {name}=" in str(refused.value)
    # The local AWS's CloudFormation refuses it with the same message: one reader of template.yaml for both.
    with pytest.raises(ValidationError, match=re.escape(message)):
        parameter_constraints.validate((ROOT / "template.yaml").read_text(encoding="utf-8"), {name: value})


def test_a_parameter_without_a_default_must_have_a_value() -> None:
    declared = template_parameters.declared()
    refused = template_parameters.refusal(declared, "WorkbenchExternalId", None)
    assert refused is not None
    assert refused.message == "Parameters: [WorkbenchExternalId] must have values"
    assert template_parameters.refusal(declared, "DeliveryMode", None) is None


def test_the_reader_of_the_cli_sees_the_templates_parameters() -> None:
    assert template_parameters.declared() == TEMPLATE["Parameters"]
