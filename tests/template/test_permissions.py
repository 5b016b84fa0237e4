"""Steps 1 and 9 of Expel's Control Tower guide: the Expel role's trust and its permissions, for both role paths."""

from __future__ import annotations

from typing import Any

import pytest

from localaws import templates
from tests.support.cfn_template import ROOT, evaluate_conditions, resolve_conditions
from tests.template.contract import (
    SCOPED_GUIDE_ACTIONS,
    as_list,
    expel_policy_statements,
    guide_read_only_permissions,
    permission_violations,
)

TEMPLATE = templates.read(ROOT / "template.yaml")
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_KNOWN = evaluate_conditions(TEMPLATE, {"CloudTrailKeyArn": KEY})
KEY_UNKNOWN = evaluate_conditions(TEMPLATE, {"CloudTrailKeyArn": ""})


def statement(template: dict[str, Any], sid: str, conditions: dict[str, bool] = KEY_KNOWN) -> dict[str, Any]:
    (found,) = [s for s in expel_policy_statements(template, conditions) if s["Sid"] == sid]
    return found


def test_policy_grants_exactly_the_guide_permission_table(template: dict[str, Any]) -> None:
    assert permission_violations(template) == []


def test_read_only_list_is_the_guide_table_without_the_scoped_actions(template: dict[str, Any]) -> None:
    read_only = statement(template, "ExpelReadOnlyInvestigation")
    assert set(read_only["Action"]) == guide_read_only_permissions()
    assert read_only["Resource"] == "*"
    assert len(read_only["Action"]) == len(set(read_only["Action"])) == 31


def test_log_objects_are_readable_only_in_the_log_bucket(template: dict[str, Any]) -> None:
    read_logs = statement(template, "ReadCloudTrailLogObjects")
    assert read_logs["Action"] == "s3:GetObject"
    assert read_logs["Resource"]["Fn::Sub"][0] == "arn:${AWS::Partition}:s3:::${Bucket}/*"


def test_queue_messages_are_consumable_only_from_our_queue(template: dict[str, Any]) -> None:
    consume = statement(template, "ConsumeObjectNotifications")
    assert sorted(consume["Action"]) == ["sqs:DeleteMessage", "sqs:ReceiveMessage"]
    assert consume["Resource"] == {"Fn::GetAtt": ["NotificationQueue", "Arn"]}


def test_notification_key_is_decryptable_only_through_sqs(template: dict[str, Any]) -> None:
    decrypt = statement(template, "DecryptObjectNotifications")
    assert decrypt["Resource"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}


def test_cloudtrail_key_is_decryptable_through_s3_when_the_key_is_known(template: dict[str, Any]) -> None:
    decrypt = statement(template, "DecryptCloudTrailLogObjects", KEY_KNOWN)
    assert decrypt["Resource"] == {"Ref": "CloudTrailKeyArn"}
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}


def test_a_discovered_key_is_decryptable_only_through_s3_in_this_region(template: dict[str, Any]) -> None:
    decrypt = statement(template, "DecryptCloudTrailLogObjects", KEY_UNKNOWN)
    assert decrypt["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:*:key/*"}
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}


def test_scoped_actions_never_sit_on_resource_star(template: dict[str, Any]) -> None:
    for s in expel_policy_statements(template, KEY_KNOWN):
        if set(as_list(s["Action"])) & SCOPED_GUIDE_ACTIONS:
            assert s["Resource"] != "*", s["Sid"]


def test_role_trusts_only_the_expel_principal_with_the_workbench_external_id(template: dict[str, Any]) -> None:
    (trust,) = template["Resources"]["ExpelRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "ExpelPrincipalArn"}}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "WorkbenchExternalId"}}}


def test_expel_principal_defaults_to_expels_cloud_service_user(template: dict[str, Any]) -> None:
    default = template["Parameters"]["ExpelPrincipalArn"]["Default"]
    assert default == "arn:aws:iam::012205512454:user/ExpelCloudService"


@pytest.mark.parametrize(
    ("create_role", "expected_role", "expected_arn"),
    [
        (True, {"Ref": "ExpelRole"}, {"Fn::GetAtt": ["ExpelRole", "Arn"]}),
        (
            False,
            {"Ref": "ExpelRoleName"},
            {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExpelRoleName}"},
        ),
    ],
    ids=["stack-creates-the-role", "stackset-role-gets-the-policy"],
)
def test_policy_attaches_to_the_role_of_either_path(
    template: dict[str, Any], create_role: bool, expected_role: Any, expected_arn: Any
) -> None:
    conditions = evaluate_conditions(template, {"CloudTrailKeyArn": KEY, "CreateExpelRole": str(create_role).lower()})
    resolved = resolve_conditions(template, conditions)
    assert resolved["Resources"]["ExpelPolicy"]["Properties"]["Roles"] == [expected_role]
    assert resolved["Globals"]["Function"]["Environment"]["Variables"]["EXPEL_ROLE_ARN"] == expected_arn
    assert template["Resources"]["ExpelRole"]["Condition"] == "CreateRole"


def test_a_key_discovered_at_run_time_may_be_only_the_management_accounts(template: dict[str, Any]) -> None:
    unknown = evaluate_conditions(template, {"CloudTrailKeyArn": ""})
    statements = resolve_conditions(template, unknown)["Resources"]["ExpelPolicy"]["Properties"]["PolicyDocument"]
    (grant,) = [s for s in statements["Statement"] if s.get("Sid") == "DecryptCloudTrailLogObjects"]
    assert grant["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:*:key/*"}
    assert grant["Condition"]["StringEquals"]["aws:ResourceAccount"] == {
        "Fn::GetAtt": ["LogTarget", "ManagementAccountId"]
    }
