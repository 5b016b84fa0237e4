"""Each write of each document-editing step fails in turn, in apply, repair and remove.

The faults are AWS's: throttling beyond botocore's retries, a 5xx, S3's 409 OperationAborted (KMS has
none), an explicit deny, and a response lost after the write landed. After each, the document is
exactly as before the run, or the run converged; a fault never leaves a half-made change behind.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from expel_onboarding import key_policy, notification
from expel_onboarding.reports import Mode
from localaws import clients
from localaws.control_tower import CLOUDTRAIL_KEY_POLICY

ACCOUNT = "123456789012"
BUCKET = "aws-controltower-logs-123456789012-us-east-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
FAULTS = ["throttling", "5xx", "409", "explicit deny", "lost response"]
MODES = [Mode.APPLY, Mode.REPAIR, Mode.REMOVE]


def error(code: str, status: int, message: str) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


def fault_of(kind: str, service: str, action: str, resource: str) -> dict[str, Any] | None:
    deny = (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/fn/x is not authorized to perform: {action} on resource: "
        f"{resource} with an explicit deny in a service control policy"
    )
    return {
        "throttling": error("SlowDown" if service == "s3" else "ThrottlingException", 503, "Please reduce your rate"),
        "5xx": error("InternalError" if service == "s3" else "KMSInternalException", 500, "We encountered an error"),
        "409": error("OperationAborted", 409, "A conflicting conditional operation is in progress")
        if service == "s3"
        else None,
        "explicit deny": error("AccessDenied" if service == "s3" else "AccessDeniedException", 403, deny),
    }.get(kind)


def inject_once(client: Any, operation: str, kind: str, service: str, action: str, resource: str) -> None:
    """The first call of operation fails with kind; the ones after go through."""
    state = {"left": 1}
    event = f"{service}.{operation}"

    def before(**_: Any) -> Any:
        parsed = fault_of(kind, service, action, resource)
        if parsed is None or not state["left"]:
            return None
        state["left"] -= 1
        status = parsed["ResponseMetadata"]["HTTPStatusCode"]
        return AWSResponse("https://fault.example", status, {}, None), parsed

    def after(**_: Any) -> None:
        if kind == "lost response" and state["left"]:
            state["left"] -= 1
            raise ReadTimeoutError(endpoint_url="https://fault.example")

    client.meta.events.register(f"before-call.{event}", before)
    client.meta.events.register(f"after-call.{event}", after)


def outcome(run: Callable[[], Any]) -> str:
    """The step's status, or the error it raised: an outcome too, which the state machine reports."""
    try:
        return str(run().status)
    except Exception as exc:  # noqa: BLE001 - whatever is raised, the document itself is checked after
        return type(exc).__name__


# --- Notification: our entry on the bucket ------------------------------------------------------------


def bucket_setup(mode: Mode) -> tuple[notification.Target, dict[str, Any]]:
    s3, sns = clients.s3(), clients.sns()
    s3.create_bucket(Bucket=BUCKET)
    ours = sns.create_topic(Name="expel-cloudtrail-objects")["TopicArn"]
    theirs = sns.create_topic(Name="audit-deletes")["TopicArn"]
    foreign = {"TopicConfigurations": [{"Id": "audit-deletes", "TopicArn": theirs, "Events": ["s3:ObjectRemoved:*"]}]}
    target = notification.Target(BUCKET, ACCOUNT, "ExpelOnboardingA1B2C3D4E5F6", ours, "AWSLogs/")
    start = notification.merge(foreign, notification.our_entry(target)) if mode is Mode.REMOVE else foreign
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=start)  # type: ignore[arg-type]
    return target, notification.read(s3, target)


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("fault", FAULTS)
def test_a_failed_notification_write_leaves_the_configuration_as_it_was_or_converged(fault: str, mode: Mode) -> None:
    target, before = bucket_setup(mode)
    s3 = boto3.client("s3", config=NO_RETRIES)
    inject_once(s3, "PutBucketNotificationConfiguration", fault, "s3", "s3:PutBucketNotification", BUCKET)
    result = outcome(lambda: notification.converge(s3, target, mode, sleep=lambda _: None))
    after = notification.read(clients.s3(), target)
    assert after in (before, notification.desired_state(before, target, mode)), (fault, mode, result)
    if fault in ("409", "lost response"):
        assert after == notification.desired_state(before, target, mode), result
    else:  # the write never landed, and the step said so
        assert (after, result) in ((before, "AwsThrottled"), (before, "ClientError"), (before, "ACTION_REQUIRED"))


# --- KeyPolicy: our statement in the key policy's text ------------------------------------------------


def key_setup(mode: Mode) -> tuple[key_policy.Target, str]:
    kms = clients.kms()
    document = copy.deepcopy(CLOUDTRAIL_KEY_POLICY)
    document["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(document, indent=2))
    target = key_policy.Target(
        key_arn, "ExpelOnboardingA1B2C3D4E5F6", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/E", "us-east-1"
    )
    if mode is Mode.REMOVE:
        key_policy.converge(kms, target, Mode.APPLY)
    return target, key_policy.read_text(kms, target)


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "409"])
def test_a_failed_key_policy_write_leaves_the_text_byte_identical_or_converged(fault: str, mode: Mode) -> None:
    target, before = key_setup(mode)
    kms = boto3.client("kms", config=NO_RETRIES)
    inject_once(kms, "PutKeyPolicy", fault, "kms", "kms:PutKeyPolicy", target.key_arn)
    result = outcome(lambda: key_policy.converge(kms, target, mode))
    after = key_policy.read_text(clients.kms(), target)
    converged = key_policy.converged(key_policy.parse(after), target, mode)
    assert after == before or converged, (fault, mode, result)
    if fault == "lost response":
        assert converged, result
    else:  # the write never landed, and the step said so
        assert after == before, result
        assert result in ("AwsThrottled", "KMSInternalException", "ExplicitDeny"), result


def test_the_matrix_covers_every_fault_in_every_mode_for_both_documents() -> None:
    # 5 faults x 3 modes for the bucket, 4 x 3 for the key (KMS has no 409): 27 runs.
    assert len(FAULTS) * len(MODES) + (len(FAULTS) - 1) * len(MODES) == 27
