"""The notification step against moto's S3: apply, check, repair and remove, with another team's entries."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from expel_onboarding import notification
from expel_onboarding.errors import NotificationOverlap
from expel_onboarding.notification import Target
from expel_onboarding.reports import Mode, Status
from localaws import clients
from localaws.aws_calls import AwsCalls

ACCOUNT = "123456789012"  # moto's default account
BUCKET = f"aws-controltower-logs-{ACCOUNT}-us-east-1"


@pytest.fixture
def landing(calls: AwsCalls) -> dict[str, Any]:
    """A log bucket already notifying another team's queue (prefix filter) and topic."""
    s3, sns, sqs = clients.s3(), clients.sns(), clients.sqs()
    s3.create_bucket(Bucket=BUCKET)
    ours = sns.create_topic(Name="expel-cloudtrail-objects")["TopicArn"]
    audit_topic = sns.create_topic(Name="audit-deletes")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="security-lake-feed")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    foreign = {
        "QueueConfigurations": [
            {
                "Id": "security-lake",
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "reports/"}]}},
            }
        ],
        "TopicConfigurations": [{"Id": "audit-deletes", "TopicArn": audit_topic, "Events": ["s3:ObjectRemoved:*"]}],
    }
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=foreign)
    calls.clear()
    target = Target(BUCKET, ACCOUNT, "ExpelOnboardingA1B2C3D4E5F6", ours, prefix="AWSLogs/")
    return {"s3": s3, "target": target, "foreign": foreign}


def current(landing: dict[str, Any]) -> dict[str, Any]:
    return notification.read(landing["s3"], landing["target"])


def test_apply_appends_our_entry_after_the_foreign_ones(landing: dict[str, Any], calls: AwsCalls) -> None:
    report = notification.converge(landing["s3"], landing["target"], Mode.APPLY)
    assert report.status is Status.CHANGED
    config = current(landing)
    assert config["QueueConfigurations"] == landing["foreign"]["QueueConfigurations"]
    assert config["TopicConfigurations"][0] == landing["foreign"]["TopicConfigurations"][0]
    assert config["TopicConfigurations"][1]["Id"] == "ExpelOnboardingA1B2C3D4E5F6"
    assert calls.writes == ["s3:PutBucketNotificationConfiguration"]


def test_apply_on_a_converged_bucket_writes_nothing(landing: dict[str, Any], calls: AwsCalls) -> None:
    notification.converge(landing["s3"], landing["target"], Mode.APPLY)
    calls.clear()
    report = notification.converge(landing["s3"], landing["target"], Mode.REPAIR)
    assert report.status is Status.OK
    assert calls.made == ["s3:GetBucketNotificationConfiguration"]


def test_check_reports_a_missing_entry_as_drift_and_writes_nothing(landing: dict[str, Any], calls: AwsCalls) -> None:
    report = notification.converge(landing["s3"], landing["target"], Mode.CHECK)
    assert report.status is Status.DRIFTED
    assert "is missing" in report.detail
    assert calls.writes == []
    assert current(landing) == landing["foreign"]


def test_repair_restores_a_deleted_entry(landing: dict[str, Any]) -> None:
    notification.converge(landing["s3"], landing["target"], Mode.APPLY)
    landing["s3"].put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=landing["foreign"])
    assert notification.converge(landing["s3"], landing["target"], Mode.REPAIR).status is Status.CHANGED
    assert notification.find(current(landing), landing["target"].entry_id) is not None


def test_remove_gives_back_exactly_the_foreign_configuration(landing: dict[str, Any]) -> None:
    notification.converge(landing["s3"], landing["target"], Mode.APPLY)
    assert notification.converge(landing["s3"], landing["target"], Mode.REMOVE).status is Status.CHANGED
    assert current(landing) == landing["foreign"]


def test_remove_without_our_entry_writes_nothing(landing: dict[str, Any], calls: AwsCalls) -> None:
    assert notification.converge(landing["s3"], landing["target"], Mode.REMOVE).status is Status.OK
    assert calls.writes == []


def test_overlap_with_a_foreign_entry_is_refused_before_writing(landing: dict[str, Any], calls: AwsCalls) -> None:
    root = "o-a1b2c3d4e5/AWSLogs/o-a1b2c3d4e5/"
    unfiltered = Target(**{**landing["target"].__dict__, "prefix": "", "log_root": root})
    with pytest.raises(NotificationOverlap, match="security-lake") as raised:
        notification.converge(landing["s3"], unfiltered, Mode.APPLY)
    # The advice names the folder the trail writes its log files under, with its real values.
    assert f"set NotificationPrefix={root}" in str(raised.value)
    assert calls.writes == []


def test_an_overlap_on_the_log_root_itself_asks_the_other_team_not_for_a_narrower_prefix(
    landing: dict[str, Any],
) -> None:
    root = "o-a1b2c3d4e5/AWSLogs/o-a1b2c3d4e5/"
    at_root = Target(**{**landing["target"].__dict__, "prefix": root, "log_root": root})
    whole_bucket = {"QueueConfigurations": [{**landing["foreign"]["QueueConfigurations"][0], "Filter": {}}]}
    with pytest.raises(NotificationOverlap) as raised:
        notification.refuse_overlap(whole_bucket, at_root)
    # A narrower prefix would leave accounts out: the fixes are the other team's entry, or our topic.
    assert "set NotificationPrefix" not in str(raised.value)
    assert "subscribe to our topic" in str(raised.value)


def test_a_failed_write_leaves_the_foreign_configuration_intact(
    landing: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = copy.deepcopy(current(landing))

    def fail(**_: Any) -> None:
        raise ConnectionError("network dropped after the read")

    monkeypatch.setattr(landing["s3"], "put_bucket_notification_configuration", fail)
    with pytest.raises(ConnectionError):
        notification.converge(landing["s3"], landing["target"], Mode.APPLY)
    monkeypatch.undo()
    assert current(landing) == before
