"""The rules every policy in the template keeps: a service principal names its source ARN and account, no
Action "*" on Resource "*" beyond the read-only list of Expel's Control Tower guide, TLS only, and each
resource policy admits only what the onboarding sends it."""

from __future__ import annotations

from typing import Any

from tests.template.contract import (
    policy_documents,
    service_grant_violations,
    statements,
    tls_violations,
    wildcard_violations,
)


def test_every_service_principal_grant_names_its_source_arn_and_account(template: dict[str, Any]) -> None:
    assert service_grant_violations(template) == []


def test_every_service_principal_grant_is_checked(template: dict[str, Any]) -> None:
    services = {
        str(statement["Principal"]["Service"])
        for _, _, statement in statements(template)
        if isinstance(statement.get("Principal"), dict) and "Service" in statement["Principal"]
    }
    # lambda.amazonaws.com: the LocateFunction's execution role, the one function role outside SAM.
    assert services == {
        "s3.amazonaws.com",
        "sns.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "scheduler.amazonaws.com",
        "lambda.amazonaws.com",
    }


def test_no_action_star_and_resource_star_only_on_the_guide_read_only_list(template: dict[str, Any]) -> None:
    assert wildcard_violations(template) == []


def test_every_resource_policy_denies_requests_without_tls(template: dict[str, Any]) -> None:
    assert tls_violations(template) == []


def test_topic_and_queue_policies_are_both_resource_policies(template: dict[str, Any]) -> None:
    kinds = {name: kind for name, kind, _ in policy_documents(template)}
    assert kinds["NotificationTopicPolicy"] == kinds["NotificationQueuePolicy"] == "resource-policy"


def test_topic_accepts_only_the_log_bucket_of_this_account(template: dict[str, Any]) -> None:
    statement = template["Resources"]["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"][0] == "arn:${AWS::Partition}:s3:::${Bucket}"


def test_queue_accepts_only_our_topic(template: dict[str, Any]) -> None:
    statement = template["Resources"]["NotificationQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["ArnEquals"] == {"aws:SourceArn": {"Ref": "NotificationTopic"}}


def test_key_lets_the_expel_role_decrypt_only_through_sqs(template: dict[str, Any]) -> None:
    key_policy = template["Resources"]["NotificationKey"]["Properties"]["KeyPolicy"]["Statement"]
    (grant,) = [s for s in key_policy if s.get("Sid") == "AllowExpelRoleToReadTheQueue"]
    assert grant["Action"] == "kms:Decrypt"
    assert grant["Condition"]["ArnEquals"]["aws:PrincipalArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExpelRoleName}"
    }
    assert grant["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}


def test_key_policy_names_the_topic_the_stack_creates(template: dict[str, Any]) -> None:
    key_policy = template["Resources"]["NotificationKey"]["Properties"]["KeyPolicy"]["Statement"]
    (sns_grant,) = [s for s in key_policy if s.get("Sid") == "AllowSnsToEncryptForTheNotificationTopic"]
    topic_name = template["Resources"]["NotificationTopic"]["Properties"]["TopicName"]["Fn::Sub"]
    assert sns_grant["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(f":{topic_name}")
