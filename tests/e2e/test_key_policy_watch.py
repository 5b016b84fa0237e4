"""The management stack watches the CloudTrail key: a PutKeyPolicy on it by anyone but the key-policy delegate
matches its EventBridge rule (whose log group keeps the record) and sets off its alarm; the delegate's own
edits, other keys and other calls do not. The events are the CloudTrail records AWS documents for
PutKeyPolicy, as EventBridge delivers them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from localaws import clients, deploy, landing_zone, stack_parameters
from localaws.accounts import MANAGEMENT, as_account
from tests.support.local_aws import local_aws


@dataclass(frozen=True)
class Watch:
    key_arn: str
    delegate_role: str  # the delegate's execution role name, as deployed
    pattern: str  # the rule's EventPattern, as deployed
    targets: list[dict[str, Any]]
    alarm: dict[str, Any]
    outputs: dict[str, str]


@pytest.fixture(scope="module")
def watch() -> Iterator[Watch]:
    with local_aws():
        zone = landing_zone.seed()
        delegate_arn = stack_parameters.deploy_org(zone)
        outputs = deploy.org_outputs() or {}
        with as_account(MANAGEMENT):
            role_arn = clients.lambda_().get_function_configuration(FunctionName=delegate_arn)["Role"]
            cloudwatch = clients.cloudwatch()
            (alarm,) = cloudwatch.describe_alarms(AlarmNames=[outputs["KeyPolicyChangedByAnotherAlarm"]])[
                "MetricAlarms"
            ]
            events = clients.events()
            (rule,) = [r for r in events.list_rules()["Rules"] if "KeyPolicyChangedByAnother" in r["Name"]]
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        yield Watch(zone.cloudtrail_key_arn, role_arn.rsplit("/", 1)[1], rule["EventPattern"], targets, alarm, outputs)


def put_key_policy(
    key_arn: str, caller: dict[str, Any], event_name: str = "PutKeyPolicy", key_id: str | None = None
) -> dict[str, Any]:
    """The CloudTrail record of a PutKeyPolicy (AWS KMS developer guide, "PutKeyPolicy") as EventBridge
    receives it: an "AWS API Call via CloudTrail" event of source aws.kms."""
    account, region = key_arn.split(":")[4], key_arn.split(":")[3]
    record = {
        "eventVersion": "1.08",
        "userIdentity": caller,
        "eventTime": "2026-12-07T12:00:00Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "192.0.2.0",
        "requestParameters": {"keyId": key_id or key_arn.rsplit("/", 1)[1], "policyName": "default", "policy": "{}"},
        "readOnly": False,
        "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
    }
    return {"Source": "aws.kms", "DetailType": "AWS API Call via CloudTrail", "Detail": json.dumps(record)}


def matches(watch: Watch, event: dict[str, Any]) -> bool:
    """Whether the deployed rule takes the event: it lands in the rule's log group. moto lets a client put an
    aws.* event, which AWS refuses; here it stands for CloudTrail's own delivery to EventBridge."""
    with as_account(MANAGEMENT):
        logs = clients.logs()
        group = watch.outputs["KeyPolicyChangesLogGroup"]
        before = len(logs.filter_log_events(logGroupName=group)["events"])
        (entry,) = clients.events().put_events(Entries=[event])["Entries"]
        assert "EventId" in entry
        kept = logs.filter_log_events(logGroupName=group)["events"]
    if len(kept) > before:
        assert json.loads(kept[-1]["message"])["detail"] == json.loads(event["Detail"])
    return len(kept) > before


def assumed(role: str, account: str = landing_zone.MANAGEMENT) -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/session",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{account}:role/{role}"}},
    }


@pytest.mark.parametrize(
    "caller",
    [
        {"type": "IAMUser", "arn": f"arn:aws:iam::{landing_zone.MANAGEMENT}:user/Alice", "userName": "Alice"},
        {"type": "Root", "arn": f"arn:aws:iam::{landing_zone.MANAGEMENT}:root"},
        assumed("AWSReservedSSO_AdministratorAccess_0123456789abcdef"),
    ],
    ids=["an-iam-user", "the-root-user", "an-administrator-role"],
)
def test_a_key_policy_change_by_anyone_else_matches(watch: Watch, caller: dict[str, Any]) -> None:
    assert matches(watch, put_key_policy(watch.key_arn, caller))


def test_the_key_named_by_its_arn_matches_too(watch: Watch) -> None:
    alice = {"type": "IAMUser", "arn": f"arn:aws:iam::{landing_zone.MANAGEMENT}:user/Alice"}
    assert matches(watch, put_key_policy(watch.key_arn, alice, key_id=watch.key_arn))


def test_the_delegates_own_edits_do_not_match(watch: Watch) -> None:
    assert not matches(watch, put_key_policy(watch.key_arn, assumed(watch.delegate_role)))


def test_a_role_named_like_the_delegate_with_more_after_it_still_matches(watch: Watch) -> None:
    # The prefix ends with the role name's slash: "<delegate role>-copy" is another role.
    assert matches(watch, put_key_policy(watch.key_arn, assumed(f"{watch.delegate_role}-copy")))


def test_other_keys_and_other_calls_do_not_match(watch: Watch) -> None:
    alice = {"type": "IAMUser", "arn": f"arn:aws:iam::{landing_zone.MANAGEMENT}:user/Alice"}
    other_key = watch.key_arn.rsplit("/", 1)[0] + "/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    assert not matches(watch, put_key_policy(other_key, alice))
    assert not matches(watch, put_key_policy(watch.key_arn, alice, event_name="GetKeyPolicy"))


def test_the_record_is_kept_in_the_stacks_log_group_and_the_alarm_counts_the_rules_matches(watch: Watch) -> None:
    (target,) = watch.targets
    log_group = watch.outputs["KeyPolicyChangesLogGroup"]
    assert target["Arn"].split(":log-group:")[1].removesuffix(":*") == log_group
    assert log_group.startswith("/aws/events/")
    alarm = watch.alarm
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Events", "TriggeredRules", "Sum")
    (dimension,) = alarm["Dimensions"]
    assert dimension["Name"] == "RuleName"
    assert "KeyPolicyChangedByAnother" in dimension["Value"]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1.0, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == []  # no KeyPolicyAlarmTopicArn given: the alarm is there, with no action
