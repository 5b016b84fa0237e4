"""The LogTarget custom resource: the organization trail's bucket, topic and delivery mode, at deploy time."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from expel_onboarding import discovery
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import TrailNotFound
from localaws import clients, landing_zone
from localaws.aws_calls import AwsCalls
from localaws.lambda_context import FakeContext
from tests.support.cfn_template import ROOT
from tests.support.crhelper_answers import capture_responses

ACCOUNT, REGION = landing_zone.LOG_ARCHIVE, landing_zone.REGION


def trail(name: str, bucket: str, organization: bool = True, topic: str | None = None) -> None:
    clients.s3().create_bucket(Bucket=bucket)
    arguments: dict[str, Any] = {"Name": name, "S3BucketName": bucket, "IsOrganizationTrail": organization}
    if topic:
        arguments["SnsTopicName"] = clients.sns().create_topic(Name=topic)["TopicArn"]
    clients.cloudtrail().create_trail(**arguments)


def locate(bucket: str = "", mode: DeliveryMode = DeliveryMode.AUTO) -> discovery.LogTarget:
    return discovery.log_target(clients.cloudtrail(), bucket, mode, ACCOUNT, REGION)


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
    trail("org", "aws-controltower-cloudtrail-logs-123456789012-a1b2c3", topic="ct-logging")
    management = clients.organizations().create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    handler.lambda_handler(request("Create", LogBucketName="", DeliveryMode="auto"), CONTEXT)
    (response,) = handler.sent
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"]["ManagementAccountId"] == management
    assert set(response["Data"]) == {
        "Bucket", "TrailArn", "TopicArn", "RelaySourceArn", "RelaySourceAccount", "HomeRegion", "DeliveryMode",
        "Reason", "ManagementAccountId",
    }  # fmt: skip
    assert response["Data"]["DeliveryMode"] == "trail-topic"


def test_the_custom_resource_fails_the_stack_with_the_fix_when_no_trail_is_visible(handler: ModuleType) -> None:
    handler.lambda_handler(request("Create", LogBucketName="", DeliveryMode="auto"), CONTEXT)
    (response,) = handler.sent
    assert response["Status"] == "FAILED"
    assert "set LogBucketName" in response["Reason"]


def test_deleting_the_custom_resource_calls_no_aws_api(handler: ModuleType, calls: AwsCalls) -> None:
    handler.lambda_handler(request("Delete"), CONTEXT)
    assert handler.sent[0]["Status"] == "SUCCESS"
    assert calls.made == []
