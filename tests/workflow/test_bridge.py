"""Custom::Onboarding: CloudFormation's events in, crhelper's responses out, the real workflow between."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from expel_onboarding import caches, custom_resource, discovery
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import DeliveryModeUnavailable
from expel_onboarding.naming import owned_id
from localaws import clients, deployment, landing_zone, stack_resources
from localaws.aws_calls import AwsCalls
from localaws.lambda_context import FakeContext
from tests.support.cfn_template import ROOT
from tests.support.crhelper_answers import capture_responses
from tests.support.throttling import Throttle

CONTEXT = FakeContext(function_name="expel-BridgeFunction")


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What crhelper would PUT to the pre-signed ResponseURL."""
    return capture_responses(monkeypatch)


@pytest.fixture
def bridge(
    workflow: deployment.Workflow, stack_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    for name, value in {**stack_environment, "STATE_MACHINE_ARN": workflow.state_machine_arn}.items():
        monkeypatch.setenv(name, value)
    caches.reset()
    sys.modules.pop("functions.bridge.app", None)
    yield importlib.import_module("functions.bridge.app")
    sys.modules.pop("functions.bridge.app", None)


DELEGATE_ARN = (
    f"arn:aws:lambda:{landing_zone.REGION}:{landing_zone.MANAGEMENT}:function:{stack_resources.DELEGATE_NAME}"
)


def event(name: str, zone: landing_zone.LandingZone, **changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text(encoding="utf-8"))
    for key in ("ResourceProperties", "OldResourceProperties"):
        if key in loaded:
            loaded[key] = {**loaded[key], "LogBucketName": zone.bucket, "KeyPolicyDelegateArn": DELEGATE_ARN}
    loaded.update(changes)
    return loaded


def current_id(zone: landing_zone.LandingZone) -> str:
    return custom_resource.physical_id(zone.bucket, "", "bucket-notification")


def test_create_runs_apply_and_returns_the_workbench_values(
    bridge: ModuleType,
    responses: list[dict[str, Any]],
    zone: landing_zone.LandingZone,
    stack_environment: dict[str, str],
) -> None:
    bridge.lambda_handler(event("bridge-create", zone), CONTEXT)
    (response,) = responses
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == current_id(zone)
    assert response["Data"] == {
        "RoleArn": stack_environment["EXPEL_ROLE_ARN"],
        "SqsUrl": stack_environment["QUEUE_URL"],
        "ManagementAccountId": landing_zone.MANAGEMENT,
        "Region": "us-east-1",
        "DeliveryMode": f"bucket-notification: {stack_environment['DELIVERY_REASON']}",
        "ActionRequired": "none",
    }


def test_update_keeps_the_physical_id_when_the_target_stays(
    bridge: ModuleType, responses: list[dict[str, Any]], zone: landing_zone.LandingZone
) -> None:
    bridge.lambda_handler(event("bridge-create", zone), CONTEXT)
    bridge.lambda_handler(event("bridge-update", zone, PhysicalResourceId=current_id(zone)), CONTEXT)
    assert [r["Status"] for r in responses] == ["SUCCESS", "SUCCESS"]
    assert responses[1]["PhysicalResourceId"] == current_id(zone)


def test_delete_removes_our_entries_and_restores_the_foreign_state(
    bridge: ModuleType, responses: list[dict[str, Any]], zone: landing_zone.LandingZone
) -> None:
    bridge.lambda_handler(event("bridge-create", zone), CONTEXT)
    bridge.lambda_handler(event("bridge-delete", zone, PhysicalResourceId=current_id(zone)), CONTEXT)
    assert responses[1]["Status"] == "SUCCESS", responses[1]["Reason"]
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy


def test_a_failed_create_writes_nothing_and_its_rollback_delete_leaves_everything_as_it_was(
    bridge: ModuleType,
    responses: list[dict[str, Any]],
    zone: landing_zone.LandingZone,
    stack_environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without a prefix our entry would overlap the security-lake team's: the Create fails.
    monkeypatch.setenv("NOTIFICATION_PREFIX", "")
    failed_workflow = deployment.deploy({**stack_environment, "NOTIFICATION_PREFIX": ""}, name="failing")
    monkeypatch.setenv("STATE_MACHINE_ARN", failed_workflow.state_machine_arn)
    caches.reset()
    bridge.lambda_handler(event("bridge-create", zone), CONTEXT)
    failed = responses[0]
    assert failed["Status"] == "FAILED"
    assert failed["Reason"].startswith("NotificationOverlap: ")
    assert len(failed["Reason"]) <= 256
    assert "(execution create-" in failed["Reason"]
    # The run's preflight found the overlap before KeyPolicy wrote: the create left nothing behind.
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications

    bridge.lambda_handler(event("bridge-delete", zone, PhysicalResourceId=failed["PhysicalResourceId"]), CONTEXT)
    assert responses[1]["Status"] == "SUCCESS", responses[1]["Reason"]
    assert not custom_resource.is_ours(failed["PhysicalResourceId"])
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications


def test_the_sample_rollback_delete_is_recognised_as_not_ours(zone: landing_zone.LandingZone) -> None:
    assert not custom_resource.is_ours(event("bridge-delete-after-failed-create", zone)["PhysicalResourceId"])


def test_an_update_to_a_new_bucket_moves_our_entry_and_cleanup_removes_only_the_old_one(
    bridge: ModuleType,
    responses: list[dict[str, Any]],
    zone: landing_zone.LandingZone,
    stack_environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bridge.lambda_handler(event("bridge-create", zone), CONTEXT)
    old_id = responses[0]["PhysicalResourceId"]
    new_bucket = "org-trail-logs-123456789012-us-east-1"
    clients.s3().create_bucket(Bucket=new_bucket)
    clients.s3().put_bucket_ownership_controls(
        Bucket=new_bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    # CloudFormation updates the functions' settings before the custom resource.
    updated = deployment.deploy({**stack_environment, "LOG_BUCKET_NAME": new_bucket}, name="updated")
    monkeypatch.setenv("LOG_BUCKET_NAME", new_bucket)
    monkeypatch.setenv("STATE_MACHINE_ARN", updated.state_machine_arn)
    caches.reset()
    old_properties = event("bridge-create", zone)["ResourceProperties"]
    update = event("bridge-update", zone, PhysicalResourceId=old_id, OldResourceProperties=old_properties)
    update["ResourceProperties"] = {**old_properties, "LogBucketName": new_bucket}
    bridge.lambda_handler(update, CONTEXT)
    assert responses[1]["Status"] == "SUCCESS", responses[1]["Reason"]
    assert (
        responses[1]["PhysicalResourceId"]
        == custom_resource.physical_id(new_bucket, "", "bucket-notification")
        != old_id
    )

    # Then CloudFormation's cleanup deletes the old physical id, with the old properties.
    bridge.lambda_handler(event("bridge-delete", zone, PhysicalResourceId=old_id), CONTEXT)
    assert responses[2]["Status"] == "SUCCESS", responses[2]["Reason"]
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    new_entries = landing_zone.notifications_of(new_bucket)["TopicConfigurations"]
    assert [entry["Id"][:15] for entry in new_entries] == ["ExpelOnboarding"]
    # The key did not move, so its statement stays.
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) != zone.foreign_key_policy


def test_the_pre_signed_response_url_is_never_logged(
    bridge: ModuleType,
    responses: list[dict[str, Any]],
    zone: landing_zone.LandingZone,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    create = event("bridge-create", zone)
    bridge.lambda_handler(create, CONTEXT)
    bridge.lambda_handler(event("bridge-delete", zone, PhysicalResourceId=current_id(zone)), CONTEXT)
    printed = capsys.readouterr()
    logged = printed.out + printed.err + caplog.text
    assert "INFO" in logged
    assert create["ResponseURL"] not in logged
    assert "cloudformation-custom-resource-response" not in logged


def test_on_an_upgraded_zone_our_bucket_entry_keeps_the_mode_and_the_stack_still_deletes(
    bridge: ModuleType,
    responses: list[dict[str, Any]],
    zone: landing_zone.LandingZone,
) -> None:
    # Onboarded on 3.x (our entry on the bucket); then Control Tower upgrades the landing zone to 4.0.
    bridge.lambda_handler(event("bridge-create", zone), CONTEXT)
    old_id = responses[0]["PhysicalResourceId"]
    landing_zone.upgrade(zone)
    onboarded = landing_zone.notifications_of(zone.bucket)

    # sam deploy with a new LogTargetRevision: LogTarget reads the trail again and finds our entry still there.
    # auto stays on it; a forced trail-topic is refused before anything is written, since the relay beside
    # the entry would deliver every log file twice.
    def located(requested: DeliveryMode) -> discovery.LogTarget:
        return discovery.log_target(
            clients.cloudtrail(),
            "",
            requested,
            landing_zone.LOG_ARCHIVE,
            landing_zone.REGION,
            organization_id=zone.organization_id,
            our_entry=discovery.our_entry_on(clients.s3(), owned_id(landing_zone.STACK_ID), landing_zone.LOG_ARCHIVE),
        )

    assert located(DeliveryMode.AUTO).delivery_mode is DeliveryMode.BUCKET_NOTIFICATION
    with pytest.raises(DeliveryModeUnavailable, match="deliver every file twice"):
        located(DeliveryMode.TRAIL_TOPIC)

    # sam delete: remove in bucket-notification mode, which CT.S3.PV.8 now refuses. The delete still succeeds,
    # our key statement goes, and our entry stays where no role of ours may remove it.
    bridge.lambda_handler(event("bridge-delete", zone, PhysicalResourceId=old_id), CONTEXT)
    assert responses[1]["Status"] == "SUCCESS", responses[1]["Reason"]
    assert landing_zone.notifications_of(zone.bucket) == onboarded
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy


def test_a_throttled_start_and_throttled_polls_are_waited_out_and_the_create_succeeds(
    bridge: ModuleType,
    responses: list[dict[str, Any]],
    zone: landing_zone.LandingZone,
    workflow: deployment.Workflow,
) -> None:
    AwsCalls().start()
    # StartExecution is idempotent by name, so a throttled start is made again; a throttled poll says nothing.
    starts = Throttle("stepfunctions:StartExecution", "ThrottlingException", times=3).arm()
    polls = Throttle("stepfunctions:DescribeExecution", "TooManyRequestsException", times=3).arm()
    bridge.lambda_handler(event("bridge-create", zone), CONTEXT)
    assert (starts.met, polls.met) == (3, 3)
    (response,) = responses
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"]["ActionRequired"] == "none"
    executions = clients.stepfunctions().list_executions(stateMachineArn=workflow.state_machine_arn)["executions"]
    assert len(executions) == 1
