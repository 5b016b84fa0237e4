"""Bad input is refused by CloudFormation itself, before anything is created."""

from __future__ import annotations

import re
from typing import Any

import pytest

from localaws import templates
from tests.support.cfn_template import ROOT

PARAMETERS: dict[str, Any] = templates.read(ROOT / "template.yaml")["Parameters"]

BAD_INPUTS = [
    ("WorkbenchExternalId", "", "empty"),
    ("WorkbenchExternalId", "not-a-guid", "not a GUID"),
    ("WorkbenchExternalId", "3f2b6c1e8d4a4e5f9a7b1c2d3e4f5a6b", "GUID without hyphens"),
    ("WorkbenchExternalId", "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6", "one digit short"),
    ("WorkbenchExternalId", "{3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b}", "braced"),
    ("WorkbenchExternalId", "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b ", "trailing space"),
    ("WorkbenchExternalId", "https://workbench.expel.io/settings/organizations/3f2b6c1e", "a pasted URL"),
    ("ExpelPrincipalArn", "", "empty"),
    ("ExpelPrincipalArn", "012205512454", "an account id"),
    ("ExpelPrincipalArn", "arn:aws:iam::12205512454:user/ExpelCloudService", "11-digit account"),
    ("ExpelPrincipalArn", "arn:aws:iam:us-east-1:012205512454:user/ExpelCloudService", "IAM with a region"),
    ("ExpelPrincipalArn", "arn:aws:sts::012205512454:assumed-role/Expel/session", "an STS session"),
    ("ExpelPrincipalArn", "arn:aws:iam::012205512454:group/Expel", "a group"),
    ("ExpelRoleName", "", "empty"),
    ("ExpelRoleName", "arn:aws:iam::111122223333:role/ExpelTrailAssumeRole", "an ARN, not a name"),
    ("ExpelRoleName", "team/ExpelTrailAssumeRole", "a path"),
    ("ExpelRoleName", "Expel Role", "a space"),
    ("ExpelRoleName", "R" * 65, "65 characters"),
    ("LogBucketName", "Aws-ControlTower-Logs-111122223333-us-east-1", "uppercase"),
    ("LogBucketName", "ab", "too short"),
    ("LogBucketName", "b" * 64, "too long"),
    ("LogBucketName", "-aws-controltower-logs", "starts with a hyphen"),
    ("LogBucketName", "aws-controltower-logs-", "ends with a hyphen"),
    ("LogBucketName", "arn:aws:s3:::aws-controltower-logs-111122223333-us-east-1", "an ARN, not a name"),
    ("LogBucketName", "s3://aws-controltower-logs-111122223333-us-east-1", "a URL"),
    ("LogBucketName", "logs_bucket", "an underscore"),
    ("CloudTrailKeyArn", "1234abcd-12ab-34cd-56ef-1234567890ab", "a key id"),
    ("CloudTrailKeyArn", "arn:aws:kms:us-east-1:111122223333:alias/aws-controltower", "an alias ARN"),
    ("CloudTrailKeyArn", "alias/aws-controltower", "an alias"),
    ("CloudTrailKeyArn", "arn:aws:kms:us-east-1:11112222333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "short account"),
    ("CloudTrailKeyArn", "arn:aws:kms::111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "no region"),
    ("CloudTrailKeyArn", "arn:aws:kms:us-east-1:111122223333:key/1234ABCD-12AB-34CD-56EF-1234567890AB", "uppercase id"),
    ("CloudTrailKeyArn", "arn:aws:s3:::aws-controltower-logs-111122223333-us-east-1", "a bucket ARN"),
    ("KeyPolicyDelegateArn", "expel-org-KeyPolicyDelegate", "a name, not an ARN"),
    ("KeyPolicyDelegateArn", "arn:aws:iam::111122223333:role/ExpelKeyPolicyEditor", "a role (the old way)"),
    ("KeyPolicyDelegateArn", "arn:aws:lambda:us-east-1:111122223333:function:delegate:prod", "an alias"),
    ("KeyPolicyDelegateArn", "arn:aws:lambda:us-east-1:111122223333:layer:delegate", "a layer"),
    ("PermissionsBoundaryArn", "ExpelOnboardingBoundary", "a name, not an ARN"),
    ("PermissionsBoundaryArn", "arn:aws:iam::111122223333:role/expel-onboarding/Boundary", "a role"),
    ("PermissionsBoundaryArn", "arn:aws:iam::aws:policy/PowerUserAccess", "an AWS managed policy"),
    ("LogTargetRevision", "", "empty"),
    ("LogTargetRevision", "two words", "a space"),
    ("LogTargetRevision", "r" * 65, "longer than 64"),
    ("NotificationPrefix", "/AWSLogs/", "a leading slash"),
    ("NotificationPrefix", "AWS Logs/", "a space"),
    ("NotificationPrefix", "A" * 1025, "longer than an object key"),
    ("DriftCheckSchedule", "daily", "not an expression"),
    ("DriftCheckSchedule", "rate(0 days)", "zero rate"),
    ("DriftCheckSchedule", "rate(1 week)", "an unknown unit"),
    ("DriftCheckSchedule", "at(2026-12-01T00:00:00)", "a one-time schedule"),
    ("AlarmEmail", "secops", "no domain"),
    ("AlarmEmail", "secops@example", "no top-level domain"),
    ("AlarmEmail", "sec ops@example.com", "a space"),
]

GOOD_INPUTS = [
    ("WorkbenchExternalId", "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b"),
    ("WorkbenchExternalId", "3F2B6C1E-8D4A-4E5F-9A7B-1C2D3E4F5A6B"),
    ("ExpelPrincipalArn", "arn:aws:iam::012205512454:user/ExpelCloudService"),
    ("ExpelPrincipalArn", "arn:aws:iam::012205512454:role/service/ExpelCloudService"),
    ("ExpelPrincipalArn", "arn:aws-us-gov:iam::012205512454:root"),
    ("ExpelRoleName", "ExpelTrailAssumeRole"),
    ("ExpelRoleName", "Expel.Role+ct=1,a@b_c-d"),
    ("LogBucketName", ""),
    ("LogBucketName", "aws-controltower-logs-111122223333-us-east-1"),
    ("LogBucketName", "org.trail.logs"),
    ("CloudTrailKeyArn", ""),
    ("CloudTrailKeyArn", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("CloudTrailKeyArn", "arn:aws:kms:eu-central-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"),
    ("CloudTrailKeyArn", "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("CloudTrailKeyArn", "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("KeyPolicyDelegateArn", ""),
    ("KeyPolicyDelegateArn", "arn:aws:lambda:us-east-1:111122223333:function:expel-org-KeyPolicyDelegate-AbC123"),
    ("KeyPolicyDelegateArn", "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:expel_delegate"),
    ("PermissionsBoundaryArn", ""),
    ("PermissionsBoundaryArn", "arn:aws:iam::111122223333:policy/expel-onboarding/portfolio-OnboardingBoundary-AbC123"),
    ("LogTargetRevision", "2"),
    ("LogTargetRevision", "2026-11-27.upgrade"),
    ("NotificationPrefix", ""),
    ("NotificationPrefix", "AWSLogs/o-abc123/"),
    ("DriftCheckSchedule", "rate(1 day)"),
    ("DriftCheckSchedule", "rate(6 hours)"),
    ("DriftCheckSchedule", "cron(0 6 * * ? *)"),
    ("AlarmEmail", ""),
    ("AlarmEmail", "secops@example.com"),
]


def accepts(parameter: str, value: str) -> bool:
    """CloudFormation matches AllowedPattern against the whole value."""
    return re.fullmatch(PARAMETERS[parameter]["AllowedPattern"], value) is not None


@pytest.mark.parametrize(("parameter", "value", "why"), BAD_INPUTS, ids=[f"{p}-{w}" for p, _, w in BAD_INPUTS])
def test_pattern_rejects_bad_input(parameter: str, value: str, why: str) -> None:
    assert not accepts(parameter, value), f"{parameter} accepted {why}: {value!r}"


@pytest.mark.parametrize(("parameter", "value"), GOOD_INPUTS)
def test_pattern_accepts_good_input(parameter: str, value: str) -> None:
    assert accepts(parameter, value)


@pytest.mark.parametrize("parameter", [p for p in PARAMETERS if "AllowedPattern" in PARAMETERS[p]])
def test_default_satisfies_its_own_pattern(parameter: str) -> None:
    default = PARAMETERS[parameter].get("Default")
    if default is not None:
        assert accepts(parameter, default)


@pytest.mark.parametrize("parameter", [p for p in PARAMETERS if "AllowedPattern" in PARAMETERS[p]])
def test_patterned_parameter_explains_its_constraint(parameter: str) -> None:
    assert len(PARAMETERS[parameter].get("ConstraintDescription", "")) > 30


def test_every_bad_input_row_targets_a_patterned_parameter() -> None:
    assert {p for p, _, _ in BAD_INPUTS} == {p for p in PARAMETERS if "AllowedPattern" in PARAMETERS[p]}


def test_external_id_is_required() -> None:
    assert "Default" not in PARAMETERS["WorkbenchExternalId"]


def test_external_id_error_says_where_to_find_the_guid_in_workbench() -> None:
    assert "workbench.expel.io/settings/organizations" in PARAMETERS["WorkbenchExternalId"]["ConstraintDescription"]


def test_create_expel_role_is_a_closed_choice() -> None:
    assert PARAMETERS["CreateExpelRole"]["AllowedValues"] == ["true", "false"]


def test_every_parameter_has_a_group_and_a_label(template: dict[str, Any]) -> None:
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [p for group in interface["ParameterGroups"] for p in group["Parameters"]]
    assert sorted(grouped) == sorted(PARAMETERS)
    assert sorted(interface["ParameterLabels"]) == sorted(PARAMETERS)
