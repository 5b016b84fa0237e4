"""A writing step's two other phases against moto: the preflight (every read and check, no write) and the
undo (put back this run's write, because a later step failed)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from expel_onboarding import delegate, key_policy, notification, steps
from expel_onboarding.errors import AwsThrottled, KeyPolicyTooLarge, NotificationOverlap
from expel_onboarding.key_policy import delegated
from expel_onboarding.naming import key_statement_sid, owned_id
from expel_onboarding.reports import Mode, Status, StepReport
from localaws import clients
from localaws.aws_calls import AwsCalls
from localaws.control_tower import CLOUDTRAIL_KEY_POLICY

ACCOUNT = "123456789012"
BUCKET = f"aws-controltower-logs-{ACCOUNT}-us-east-1"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/expel-cloudtrail/0a1b2c3d-1111-2222-3333-444455556666"
SID = owned_id(STACK_ID)


@pytest.fixture
def bucket(calls: AwsCalls) -> tuple[Any, notification.Target, dict[str, Any]]:
    s3, sns = clients.s3(), clients.sns()
    s3.create_bucket(Bucket=BUCKET)
    ours = sns.create_topic(Name="expel-cloudtrail-objects")["TopicArn"]
    theirs = sns.create_topic(Name="audit-deletes")["TopicArn"]
    foreign = {"TopicConfigurations": [{"Id": "audit-deletes", "TopicArn": theirs, "Events": ["s3:ObjectRemoved:*"]}]}
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=foreign)  # type: ignore[arg-type]
    calls.clear()
    return s3, notification.Target(BUCKET, ACCOUNT, SID, ours, "AWSLogs/"), foreign


@pytest.fixture
def key(calls: AwsCalls) -> tuple[Any, key_policy.Target]:
    kms = clients.kms()
    document = copy.deepcopy(CLOUDTRAIL_KEY_POLICY)
    document["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(document, indent=2))
    calls.clear()
    role = f"arn:aws:iam::{ACCOUNT}:role/E"
    target = key_policy.Target(key_arn, key_statement_sid(role, key_arn), ACCOUNT, role, "us-east-1", stack_id=STACK_ID)
    return kms, target


# --- preflight ------------------------------------------------------------------------------------------


def test_a_notification_preflight_reads_decides_and_writes_nothing(bucket: Any, calls: AwsCalls) -> None:
    s3, target, _ = bucket
    report = notification.converge(s3, target, Mode.APPLY, preflight=True)
    assert report.status is Status.DRIFTED
    assert report.detail.startswith(f"Would add our entry to {BUCKET}")
    assert calls.writes == []
    assert notification.find(notification.read(s3, target), SID) is None


def test_a_notification_preflight_meets_the_overlap_the_write_would_meet(bucket: Any, calls: AwsCalls) -> None:
    s3, target, foreign = bucket
    overlapping = {**foreign, "QueueConfigurations": []}
    overlapping["TopicConfigurations"] = [
        *foreign["TopicConfigurations"],
        {"Id": "siem", "TopicArn": foreign["TopicConfigurations"][0]["TopicArn"], "Events": ["s3:ObjectCreated:*"]},
    ]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=overlapping)
    calls.clear()
    with pytest.raises(NotificationOverlap):
        notification.converge(s3, target, Mode.APPLY, preflight=True)
    assert calls.writes == []


def test_a_key_policy_preflight_says_what_it_would_add_and_writes_nothing(key: Any, calls: AwsCalls) -> None:
    kms, target = key
    before = key_policy.read_text(kms, target)
    report = key_policy.converge(kms, target, Mode.APPLY, preflight=True)
    assert report.status is Status.DRIFTED
    assert report.detail.startswith(f"Would add our statement '{target.sid}'")
    assert calls.writes == []
    assert key_policy.read_text(kms, target) == before


def test_a_key_policy_preflight_meets_the_size_limit_the_write_would_meet(key: Any, calls: AwsCalls) -> None:
    kms, target = key
    document = json.loads(key_policy.read_text(kms, target))
    document["Statement"][0]["Condition"] = {"StringLike": {"aws:PrincipalTag/team": ["x" * 32_200]}}
    kms.put_key_policy(KeyId=target.key_arn, PolicyName="default", Policy=json.dumps(document))
    calls.clear()
    with pytest.raises(KeyPolicyTooLarge):
        key_policy.converge(kms, target, Mode.APPLY, preflight=True)
    assert calls.writes == []


def test_a_refusal_found_by_a_preflight_is_a_failed_report_naming_step_and_fix() -> None:
    def refuse() -> StepReport:
        raise NotificationOverlap("The bucket already sends these events to 'siem'.", "set NotificationPrefix.")

    report = steps.preflight("Notification", refuse)
    assert report.status is Status.FAILED
    assert report.detail.startswith("NotificationOverlap: The bucket already sends")
    assert "set NotificationPrefix." in report.detail
    assert "Nothing was written" in report.detail


def test_a_preflight_leaves_transient_errors_to_the_state_machine_retry() -> None:
    def throttled() -> StepReport:
        raise AwsThrottled("slow down")

    with pytest.raises(AwsThrottled):
        steps.preflight("KeyPolicy", throttled)


# --- undo -----------------------------------------------------------------------------------------------


def test_undo_puts_back_the_configuration_our_write_replaced(bucket: Any, calls: AwsCalls) -> None:
    s3, target, _ = bucket
    before = notification.read(s3, target)
    record = notification.converge(s3, target, Mode.APPLY).undo
    assert record == {"Before": before, "After": notification.read(s3, target)}
    calls.clear()
    report = notification.undo(s3, target, record)
    assert report.status is Status.CHANGED
    assert notification.read(s3, target) == before
    assert calls.writes == ["s3:PutBucketNotificationConfiguration"]


def test_undo_of_a_removal_puts_our_entry_back_where_it_was(bucket: Any) -> None:
    s3, target, foreign = bucket
    theirs_after = {
        "Id": "later",
        "TopicArn": foreign["TopicConfigurations"][0]["TopicArn"],
        "Events": ["s3:ObjectRemoved:Delete"],
    }
    notification.converge(s3, target, Mode.APPLY)
    config = notification.read(s3, target)
    config["TopicConfigurations"].append(theirs_after)
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=config)
    before = notification.read(s3, target)
    record = notification.converge(s3, target, Mode.REMOVE).undo
    assert record is not None
    notification.undo(s3, target, record)
    assert notification.read(s3, target) == before  # ours back in the middle, not appended


def test_undo_keeps_a_change_someone_made_after_our_write_and_says_how_to_take_ours_out(bucket: Any) -> None:
    s3, target, _ = bucket
    record = notification.converge(s3, target, Mode.APPLY).undo
    assert record is not None
    config = notification.read(s3, target)
    config["TopicConfigurations"][0]["Events"] = ["s3:ObjectRemoved:*", "s3:ObjectRestore:Completed"]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=config)
    report = notification.undo(s3, target, record)
    assert report.status is Status.ACTION_REQUIRED
    assert notification.read(s3, target) == config
    assert "aws s3api put-bucket-notification-configuration --bucket" in report.detail
    assert SID not in report.detail.split("--notification-configuration", 1)[1]


def test_undo_with_nothing_written_reads_nothing_and_writes_nothing(bucket: Any, calls: AwsCalls) -> None:
    s3, target, _ = bucket
    report = notification.undo(s3, target, {})
    assert report.status is Status.OK
    assert calls.made == []


def test_a_statement_the_run_added_is_undone_by_removal_byte_for_byte(key: Any) -> None:
    kms, target = key
    before = key_policy.read_text(kms, target)
    added = key_policy.converge(kms, target, Mode.APPLY)
    assert added.undo == {"Remove": True}
    key_policy.converge(kms, target, Mode.REMOVE)
    assert key_policy.read_text(kms, target) == before


def test_a_statement_the_run_only_corrected_has_nothing_to_undo(key: Any) -> None:
    kms, target = key
    key_policy.converge(kms, target, Mode.APPLY)
    document = json.loads(key_policy.read_text(kms, target))
    ours = next(s for s in document["Statement"] if s.get("Sid") == target.sid)
    ours["Action"] = "kms:*"
    kms.put_key_policy(KeyId=target.key_arn, PolicyName="default", Policy=json.dumps(document))
    repaired = key_policy.converge(kms, target, Mode.REPAIR)
    assert repaired.status is Status.CHANGED
    assert repaired.undo is None


# --- through the management account's delegate -----------------------------------------------------------


def test_the_delegate_runs_a_preflight_as_its_own_read_only_operation(key: Any, calls: AwsCalls) -> None:
    kms, target = key
    config = delegate.Config(target.key_arn, target.expel_role_arn, ACCOUNT, "aws")
    request = {
        "KeyArn": target.key_arn,
        "Sid": target.sid,
        "ExpelRoleArn": target.expel_role_arn,
        "Region": "us-east-1",
        "StackId": STACK_ID,
    }
    before = key_policy.read_text(kms, target)
    sent: list[str] = []

    def invoke(function_arn: str, payload: Any) -> tuple[Any, str]:
        sent.append(payload["Operation"])
        return delegate.handle(payload, config, kms, delegate.door_of(function_arn, config)), ""

    function_arn = "arn:aws:lambda:us-east-1:111111111111:function:d"
    door = delegate.door_of(function_arn, config)
    report = delegated.Delegate(function_arn, invoke).run(target, Mode.APPLY, preflight=True)
    assert sent == ["plan-apply"]
    assert report.status is Status.DRIFTED
    assert key_policy.read_text(kms, target) == before
    assert "kms:PutKeyPolicy" not in calls.writes
    assert delegate.handle({**request, "Operation": "plan-remove"}, config, kms, door)["Report"]["Status"] == "OK"
