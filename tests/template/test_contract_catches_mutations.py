"""The contract checks are not vacuous: changing any setting of Expel's Control Tower guide makes one of them fail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.template.contract import (
    log_scope_violations,
    permission_violations,
    queue_violations,
    service_grant_violations,
    subscription_violations,
    tls_violations,
    wildcard_violations,
)

Template = dict[str, Any]
ALL_CHECKS = (
    queue_violations,
    subscription_violations,
    permission_violations,
    service_grant_violations,
    wildcard_violations,
    tls_violations,
    log_scope_violations,
)


def props(template: Template, name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def statement(template: Template, resource: str, sid: str) -> dict[str, Any]:
    document = props(template, resource).get("PolicyDocument") or props(template, resource)["KeyPolicy"]
    (found,) = [s for s in document["Statement"] if isinstance(s, dict) and s.get("Sid") == sid]
    return found


def read_only(template: Template) -> list[str]:
    return statement(template, "ExpelPolicy", "ExpelReadOnlyInvestigation")["Action"]


MUTATIONS: dict[str, Callable[[Template], None]] = {
    "raw delivery off": lambda t: props(t, "NotificationSubscription").update(RawMessageDelivery=False),
    "subscription by email": lambda t: props(t, "NotificationSubscription").update(Protocol="email"),
    "visibility 60 s": lambda t: props(t, "NotificationQueue").update(VisibilityTimeout=60),
    "retention 4 days": lambda t: props(t, "NotificationQueue").update(MessageRetentionPeriod=345600),
    "delay 5 s": lambda t: props(t, "NotificationQueue").update(DelaySeconds=5),
    "max size 1 MiB": lambda t: props(t, "NotificationQueue").update(MaximumMessageSize=1048576),
    "long polling": lambda t: props(t, "NotificationQueue").update(ReceiveMessageWaitTimeSeconds=20),
    "FIFO queue": lambda t: props(t, "NotificationQueue").update(FifoQueue=True),
    "SQS-managed SSE": lambda t: props(t, "NotificationQueue").pop("KmsMasterKeyId"),
    "guide action dropped": lambda t: read_only(t).remove("lightsail:GetRegions"),
    "extra action added": lambda t: read_only(t).append("s3:PutObject"),
    "GetObject on *": lambda t: statement(t, "ExpelPolicy", "ReadCloudTrailLogObjects").update(Resource="*"),
    "Action *": lambda t: statement(t, "ExpelPolicy", "ConsumeObjectNotifications").update(Action="*"),
    "topic grant without SourceArn": lambda t: statement(
        t, "NotificationTopicPolicy", "AllowS3ToPublishFromTheLogBucket"
    )["Condition"].pop("ArnEquals"),
    "queue grant without SourceAccount": lambda t: statement(
        t, "NotificationQueuePolicy", "AllowTheNotificationTopicToSend"
    )["Condition"].pop("StringEquals"),
    "key grant without SourceAccount": lambda t: statement(
        t, "NotificationKey", "AllowSnsToEncryptForTheNotificationTopic"
    )["Condition"].pop("StringEquals"),
    "queue TLS deny dropped": lambda t: props(t, "NotificationQueuePolicy")["PolicyDocument"]["Statement"].remove(
        statement(t, "NotificationQueuePolicy", "DenyInsecureTransport")
    ),
    "topic TLS deny dropped": lambda t: props(t, "NotificationTopicPolicy")["PolicyDocument"]["Statement"].remove(
        statement(t, "NotificationTopicPolicy", "DenyInsecureTransport")
    ),
    "a function's log Deny dropped": lambda t: props(t, "VerifyFunction")["Policies"].pop(),
    "a log Deny leaving another group": lambda t: log_deny(t, "BridgeFunction")["NotResource"].append(
        {"Fn::GetAtt": ["VerifyLogGroup", "Arn"]}
    ),
    "a log Deny that is an Allow": lambda t: log_deny(t, "RelayFunction").update(Effect="Allow", Resource="*"),
    "two functions share a log group": lambda t: props(t, "OutputsFunction")["LoggingConfig"].update(
        LogGroup={"Ref": "VerifyLogGroup"}
    ),
    "the locate role logs anywhere": lambda t: statement_of_role(t, "LocateRole", "WriteItsOwnLog").update(
        Resource="*"
    ),
}


def log_deny(template: Template, function: str) -> dict[str, Any]:
    (found,) = [
        s
        for policy in props(template, function)["Policies"]
        for s in policy["Statement"]
        if s.get("Sid") == "WriteOnlyItsOwnLogGroup"
    ]
    return found


def statement_of_role(template: Template, role: str, sid: str) -> dict[str, Any]:
    (found,) = [
        s
        for policy in props(template, role)["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if s.get("Sid") == sid
    ]
    return found


def test_the_real_template_passes_every_check(template: Template) -> None:
    assert {check.__name__: check(template) for check in ALL_CHECKS} == {check.__name__: [] for check in ALL_CHECKS}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=list(MUTATIONS))
def test_a_changed_guide_setting_is_caught(template: Template, mutation: str) -> None:
    MUTATIONS[mutation](template)
    violations = [v for check in ALL_CHECKS for v in check(template)]
    assert violations, f"no contract check noticed: {mutation}"
