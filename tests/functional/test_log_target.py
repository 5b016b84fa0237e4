"""The LogTarget custom resource: the organization trail's bucket, topic and delivery mode, at deploy time."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from expel_onboarding import clients as expel_clients
from expel_onboarding import discovery
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import DeliveryModeUnavailable, NotificationPrefixCannotMatch, TrailNotFound
from expel_onboarding.trail import TrailRecord
from localaws import clients, landing_zone
from localaws.aws_calls import AwsCalls
from localaws.lambda_context import FakeContext
from tests.support.cfn_template import ROOT
from tests.support.crhelper_answers import capture_responses
from tests.support.throttling import Throttle

ACCOUNT, REGION = landing_zone.LOG_ARCHIVE, landing_zone.REGION


ORG = "o-a1b2c3d4e5"
# Control Tower's layout: the trail's S3KeyPrefix is the organization id, and an organization trail adds it again.
LOG_ROOT = f"{ORG}/AWSLogs/{ORG}/"
OURS = "ExpelOnboardingA1B2C3D4E5F6"


def trail(name: str, bucket: str, organization: bool = True, topic: str | None = None, prefix: str = ORG) -> None:
    clients.s3().create_bucket(Bucket=bucket)
    arguments: dict[str, Any] = {"Name": name, "S3BucketName": bucket, "IsOrganizationTrail": organization}
    if topic:
        arguments["SnsTopicName"] = clients.sns().create_topic(Name=topic)["TopicArn"]
    if prefix:
        arguments["S3KeyPrefix"] = prefix
    clients.cloudtrail().create_trail(**arguments)


def our_entry(prefix: str | None = LOG_ROOT) -> dict[str, Any]:
    """Our entry as a stack writes it: filtered on prefix, or on nothing (None), as stacks made before the
    trail's log root was read wrote it."""
    entry: dict[str, Any] = {
        "Id": OURS,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ours",
        "Events": ["s3:ObjectCreated:*"],
    }
    if prefix is not None:
        entry["Filter"] = {"Key": {"FilterRules": [{"Name": "Prefix", "Value": prefix}]}}
    return entry


def locate(
    bucket: str = "",
    mode: DeliveryMode = DeliveryMode.AUTO,
    prefix: str = "",
    ours_on: str = "",
    entry: dict[str, Any] | None = None,
) -> discovery.LogTarget:
    found = entry or our_entry()
    return discovery.log_target(
        clients.cloudtrail(),
        bucket,
        mode,
        ACCOUNT,
        REGION,
        organization_id=ORG,
        notification_prefix=prefix,
        our_entry=lambda name: found if name == ours_on else None,
    )


def test_an_empty_notification_prefix_means_the_folder_the_trail_writes_its_log_files_under() -> None:
    trail("org", "aws-controltower-logs-123456789012-us-east-1")
    found = locate()
    assert found.notification_prefix == LOG_ROOT
    assert found.attributes("aws", REGION, ACCOUNT)["NotificationPrefix"] == LOG_ROOT


@pytest.mark.parametrize(
    "prefix",
    [
        LOG_ROOT,
        f"{ORG}/",
        f"{ORG}/AWSLogs/",
        f"{LOG_ROOT}111111111111/",
        f"{LOG_ROOT}1111",
        f"{LOG_ROOT}111111111111/Cloud",
    ],
)
def test_a_notification_prefix_some_log_file_can_fall_under_is_kept(prefix: str) -> None:
    trail("org", "aws-controltower-logs-123456789012-us-east-1")
    assert locate(prefix=prefix).notification_prefix == prefix


@pytest.mark.parametrize(
    "prefix",
    ["AWSLogs/", f"AWSLogs/{ORG}/", f"{ORG}/AWSLogs/111111111111/", f"{LOG_ROOT}111111111111/Config/", "reports/"],
)
def test_a_notification_prefix_no_log_file_can_fall_under_is_refused_naming_the_one_that_fits(prefix: str) -> None:
    trail("org", "aws-controltower-logs-123456789012-us-east-1")
    with pytest.raises(NotificationPrefixCannotMatch) as raised:
        locate(prefix=prefix)
    assert f"NotificationPrefix is {prefix}" in raised.value.found
    assert raised.value.fix.startswith(f"set NotificationPrefix={LOG_ROOT}")


def test_the_trail_as_the_stack_is_built_for_it_is_recorded() -> None:
    trail("org", "aws-controltower-logs-123456789012-us-east-1", topic="ct-logging")
    record = TrailRecord.parse(
        locate(mode=DeliveryMode.BUCKET_NOTIFICATION).attributes("aws", REGION, ACCOUNT)["Trail"]
    )
    assert (record.bucket, record.key_prefix, record.organization_id, record.home_region) == (
        "aws-controltower-logs-123456789012-us-east-1",
        ORG,
        ORG,
        REGION,
    )
    assert record.topic_arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:ct-logging"


def test_while_our_bucket_entry_is_there_auto_stays_on_it_and_says_why() -> None:
    bucket = "aws-controltower-logs-123456789012-us-east-1"
    trail("org", bucket, topic="ct-logging")
    found = locate(ours_on=bucket)
    assert found.delivery_mode is DeliveryMode.BUCKET_NOTIFICATION
    assert "would deliver every file twice" in found.reason
    assert "CT.S3.PV.8" in found.reason


def test_while_our_bucket_entry_is_there_trail_topic_is_refused_before_any_write() -> None:
    bucket = "aws-controltower-logs-123456789012-us-east-1"
    trail("org", bucket, topic="ct-logging")
    calls = AwsCalls().start()
    with pytest.raises(DeliveryModeUnavailable) as raised:
        locate(mode=DeliveryMode.TRAIL_TOPIC, ours_on=bucket)
    assert "deliver every file twice" in raised.value.found
    assert "DeliveryMode=auto" in raised.value.fix
    assert [call for call in calls.made if call in calls.writes] == []


def test_an_entry_of_ours_from_before_the_log_root_was_read_is_kept_as_it_is() -> None:
    bucket = "aws-controltower-logs-123456789012-us-east-1"
    trail("org", bucket, topic="ct-logging")
    found = locate(ours_on=bucket, entry=our_entry(prefix=None))
    # Unfiltered, it notifies every log file: the stack stays on it and writes nothing to it.
    assert (found.delivery_mode, found.notification_prefix) == (DeliveryMode.BUCKET_NOTIFICATION, "")
    assert "for the whole bucket" in found.reason


def test_an_entry_of_ours_that_notifies_none_of_the_log_files_leaves_the_relay_to_deliver_them() -> None:
    bucket = "aws-controltower-logs-123456789012-us-east-1"
    trail("org", bucket, topic="ct-logging")
    found = locate(ours_on=bucket, entry=our_entry(prefix="AWSLogs/"))
    assert found.delivery_mode is DeliveryMode.TRAIL_TOPIC
    assert "delivers none of them" in found.reason


def test_a_notification_prefix_asked_while_our_entry_is_frozen_is_said_not_to_apply() -> None:
    bucket = "aws-controltower-logs-123456789012-us-east-1"
    trail("org", bucket, topic="ct-logging")
    found = locate(ours_on=bucket, prefix=f"{LOG_ROOT}111111111111/")
    assert found.notification_prefix == LOG_ROOT
    assert f"NotificationPrefix={LOG_ROOT}111111111111/ does not apply" in found.reason


def test_where_the_trail_offers_no_topic_of_this_account_our_entry_is_not_read() -> None:
    bucket = "aws-controltower-logs-123456789012-us-east-1"
    trail("org", bucket)
    asked: list[str] = []
    discovery.log_target(
        clients.cloudtrail(),
        "",
        DeliveryMode.AUTO,
        ACCOUNT,
        REGION,
        organization_id=ORG,
        our_entry=lambda name: asked.append(name),  # type: ignore[func-returns-value]
    )
    assert asked == []


def test_our_entry_is_found_on_the_bucket_by_its_id() -> None:
    bucket = "aws-controltower-logs-123456789012-us-east-1"
    s3 = clients.s3()
    s3.create_bucket(Bucket=bucket)
    topic = clients.sns().create_topic(Name="ours")["TopicArn"]
    found = discovery.our_entry_on(s3, OURS, ACCOUNT)
    assert found(bucket) is None
    entry = {"Id": OURS, "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [entry]})
    assert found(bucket) == entry
    assert found("a-bucket-that-is-not-there") is None


def test_an_empty_log_bucket_name_takes_the_organization_trails_bucket_whatever_its_name() -> None:
    trail("org", "aws-controltower-cloudtrail-logs-123456789012-a1b2c3")
    trail("team", "team-trail-bucket", organization=False)
    assert locate().bucket == "aws-controltower-cloudtrail-logs-123456789012-a1b2c3"


def test_a_trail_topic_in_this_account_is_chosen_and_offered_to_the_template() -> None:
    trail("org", "aws-controltower-cloudtrail-logs-123456789012-a1b2c3", topic="ct-logging")
    found = locate()
    attributes = found.attributes("aws", REGION, ACCOUNT)
    assert found.delivery_mode is DeliveryMode.TRAIL_TOPIC
    assert attributes["TopicArn"] == attributes["RelaySourceArn"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:ct-logging"
    assert attributes["RelaySourceAccount"] == ACCOUNT


def test_in_bucket_notification_mode_the_relay_queue_accepts_no_real_topic() -> None:
    trail("org", "aws-controltower-logs-123456789012-us-east-1", topic="ct-logging")
    attributes = locate(mode=DeliveryMode.BUCKET_NOTIFICATION).attributes("aws", REGION, ACCOUNT)
    assert attributes["TopicArn"] == ""
    assert attributes["RelaySourceArn"].endswith(f":{discovery.NO_TRAIL_TOPIC}")
    # A name no topic can have (Amazon SNS API reference, "CreateTopic"): nobody can create it to be trusted.
    assert not re.fullmatch(r"[A-Za-z0-9_-]{1,256}|[A-Za-z0-9_-]{1,251}\.fifo", discovery.NO_TRAIL_TOPIC)


def test_a_log_bucket_name_the_trail_does_not_write_to_is_refused_naming_the_trails_bucket() -> None:
    trail("org", "aws-controltower-cloudtrail-logs-123456789012-a1b2c3")
    with pytest.raises(TrailNotFound) as raised:
        locate("aws-controltower-logs-123456789012-us-east-1")
    assert "aws-controltower-cloudtrail-logs-123456789012-a1b2c3" in raised.value.found
    assert "LogBucketName" in raised.value.fix


def test_no_visible_organization_trail_is_refused_with_the_parameter_to_set() -> None:
    trail("team", "team-trail-bucket", organization=False)
    with pytest.raises(TrailNotFound) as raised:
        locate()
    assert "No organization trail is visible" in raised.value.found
    assert "LogBucketName" in raised.value.fix


def test_a_given_bucket_is_accepted_when_no_trail_is_visible_but_only_for_the_bucket_notification() -> None:
    found = locate("customer-log-bucket")
    assert (found.bucket, found.delivery_mode, found.trail_arn) == (
        "customer-log-bucket",
        DeliveryMode.BUCKET_NOTIFICATION,
        "",
    )


def test_two_organization_trails_with_different_buckets_ask_which_one() -> None:
    trail("org-a", "bucket-a")
    trail("org-b", "bucket-b")
    with pytest.raises(TrailNotFound, match="bucket-a, bucket-b"):
        locate()


CONTEXT = FakeContext(function_name="expel-LocateFunction")


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    sent = capture_responses(monkeypatch)
    sys.modules.pop("functions.locate.app", None)
    module = importlib.import_module("functions.locate.app")
    module.sent = sent  # type: ignore[attr-defined]
    yield module
    sys.modules.pop("functions.locate.app", None)


def request(kind: str, **properties: str) -> dict[str, Any]:
    """events/locate-create.json, as CloudFormation would send it for this request type."""
    loaded: dict[str, Any] = json.loads((ROOT / "events" / "locate-create.json").read_text(encoding="utf-8"))
    loaded["RequestType"] = kind
    loaded["ResourceProperties"].update(properties)
    if kind != "Create":
        loaded["PhysicalResourceId"] = "aws-controltower-logs-123456789012-us-east-1|bucket-notification"
    return loaded


def test_the_custom_resource_answers_the_attributes_the_template_reads(handler: ModuleType) -> None:
    management = clients.organizations().create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    trail("org", "aws-controltower-cloudtrail-logs-123456789012-a1b2c3", topic="ct-logging")
    handler.lambda_handler(request("Create", LogBucketName="", DeliveryMode="auto"), CONTEXT)
    (response,) = handler.sent
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"]["ManagementAccountId"] == management
    assert set(response["Data"]) == {
        "Bucket", "TrailArn", "TopicArn", "RelaySourceArn", "RelaySourceAccount", "HomeRegion", "DeliveryMode",
        "Reason", "ManagementAccountId", "Trail", "NotificationPrefix",
    }  # fmt: skip
    assert response["Data"]["DeliveryMode"] == "trail-topic"


def test_the_custom_resource_waits_out_throttled_reads(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # No state machine retries a custom resource: it makes its reads again itself, with backoff (no wait here).
    clients.organizations().create_organization(FeatureSet="ALL")
    trail("org", "aws-controltower-cloudtrail-logs-123456789012-a1b2c3", topic="ct-logging")
    monkeypatch.setattr(expel_clients, "time", SimpleNamespace(sleep=lambda _: None))
    AwsCalls().start()
    throttles = [
        Throttle("organizations:DescribeOrganization", "TooManyRequestsException", times=2).arm(),
        Throttle("cloudtrail:DescribeTrails", "ThrottlingException", times=2).arm(),
    ]
    handler.lambda_handler(request("Create", LogBucketName="", DeliveryMode="auto"), CONTEXT)
    (response,) = handler.sent
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert [throttle.met for throttle in throttles] == [2, 2]


def test_the_custom_resource_fails_the_stack_with_the_fix_when_no_trail_is_visible(handler: ModuleType) -> None:
    clients.organizations().create_organization(FeatureSet="ALL")
    handler.lambda_handler(request("Create", LogBucketName="", DeliveryMode="auto"), CONTEXT)
    (response,) = handler.sent
    assert response["Status"] == "FAILED"
    assert "set LogBucketName" in response["Reason"]


def test_the_custom_resource_refuses_a_notification_prefix_that_cannot_match_before_the_stack_goes_on(
    handler: ModuleType,
) -> None:
    organization = clients.organizations().create_organization(FeatureSet="ALL")["Organization"]["Id"]
    trail("org", "aws-controltower-logs-123456789012-us-east-1", prefix=organization)
    handler.lambda_handler(request("Create", NotificationPrefix="AWSLogs/"), CONTEXT)
    (response,) = handler.sent
    assert response["Status"] == "FAILED"
    assert f"set NotificationPrefix={organization}/AWSLogs/{organization}/" in response["Reason"]


def test_deleting_the_custom_resource_calls_no_aws_api(handler: ModuleType, calls: AwsCalls) -> None:
    handler.lambda_handler(request("Delete"), CONTEXT)
    assert handler.sent[0]["Status"] == "SUCCESS"
    assert calls.made == []
