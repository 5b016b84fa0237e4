"""The throttling matrix: every AWS operation the Lambda functions call x every throttling code botocore knows
(and a bare 429), lasting beyond botocore's retries, reaches the code as AwsThrottled: the one error type the
state machine retries, the relay hands back to its queue, and the bridge and the CLI wait out themselves.

The operations are read from the code (tests/support/aws_operations.py): a new call fails
test_the_matrix_names_every_operation_the_functions_call until it has a row here. Each operation's whole
run, retried and converged, is in tests/workflow/test_throttled_runs.py; the relay's in
tests/functional/test_relay.py, the bridge's in tests/workflow/test_bridge.py, the CLI's in
tests/workflow/test_cli.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
import pytest
from botocore import xform_name

from expel_onboarding import clients
from expel_onboarding.errors import AwsThrottled
from tests.support.aws_operations import operations_called
from tests.support.throttling import CODES, Throttle

# Where each operation is made: a step of a run (or the management account's delegate), the relay, the bridge
# (CloudFormation's custom resource) or the CLI following a run.
OPERATIONS = {
    "cloudtrail:DescribeTrails": "Discover, and the LogTarget custom resource",
    "organizations:DescribeOrganization": "Discover, and the LogTarget custom resource",
    "s3:GetBucketLocation": "Discover",
    "s3:GetBucketNotificationConfiguration": "Discover, Notification",
    "s3:ListObjectsV2": "Discover (a trail that names no key)",
    "s3:HeadObject": "Discover (a trail that names no key), the relay",
    "s3:GetBucketOwnershipControls": "Ownership",
    "s3:PutBucketOwnershipControls": "Ownership (FixObjectOwnership)",
    "lambda:Invoke": "KeyPolicy and Verify, calling the delegate",
    "kms:DescribeKey": "KeyPolicy, in this account or the delegate",
    "kms:GetKeyPolicy": "KeyPolicy, in this account or the delegate",
    "kms:PutKeyPolicy": "KeyPolicy, in this account or the delegate",
    "s3:PutBucketNotificationConfiguration": "Notification (bucket-notification mode)",
    "sns:ListSubscriptionsByTopic": "Notification (trail-topic mode)",
    "sns:Subscribe": "Notification (trail-topic mode)",
    "sns:Unsubscribe": "Notification (trail-topic mode, remove)",
    "sns:GetSubscriptionAttributes": "Notification (trail-topic mode), Verify",
    "iam:GetRole": "Verify",
    "iam:SimulatePrincipalPolicy": "Verify",
    "sns:PublishBatch": "the relay",
    "stepfunctions:StartExecution": "the bridge, the CLI",
    "stepfunctions:DescribeExecution": "the bridge, the CLI",
    "stepfunctions:GetExecutionHistory": "the CLI",
}


def test_the_matrix_names_every_operation_the_functions_call() -> None:
    assert set(OPERATIONS) == operations_called()


def placeholder(shape: Any) -> Any:
    """A value botocore's parameter validation accepts for shape (the call never leaves the process)."""
    kind = shape.type_name if shape is not None else "none"
    if kind == "none":  # an operation without input (DescribeOrganization)
        return {}
    if kind == "structure":
        return {name: placeholder(shape.members[name]) for name in shape.required_members}
    if kind == "list":
        return [placeholder(shape.member)] * int(shape.metadata.get("min", 0))
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(1, int(shape.metadata.get("min", 1)))
    if kind in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return datetime(2026, 12, 7, tzinfo=UTC)
    return False if kind == "boolean" else 1.0


THROTTLE = Throttle("", "")
SESSION = boto3.Session(region_name="us-east-1", aws_access_key_id="matrix", aws_secret_access_key="matrix")  # noqa: S106
THROTTLE.arm(SESSION)


@cache
def product_client(service: str) -> Any:
    """A client as expel_onboarding.clients makes them (its retries, watched), on a session of this test."""
    return clients.watched(SESSION.client(service, config=clients.RETRIES))  # type: ignore[call-overload]


MATRIX = [(operation, code) for operation in sorted(OPERATIONS) for code in CODES]


@pytest.mark.parametrize(("operation", "code"), MATRIX, ids=[f"{op}-{code}" for op, code in MATRIX])
def test_every_throttle_of_every_operation_is_aws_throttled(operation: str, code: str) -> None:
    service, name = operation.split(":")
    client = product_client(service)
    THROTTLE.operation, THROTTLE.code, THROTTLE.met = operation, code, 0
    parameters = placeholder(client.meta.service_model.operation_model(name).input_shape)
    with pytest.raises(AwsThrottled) as throttled:
        getattr(client, xform_name(name))(**parameters)
    assert THROTTLE.met == 1
    assert name in str(throttled.value)


def test_the_matrix_size() -> None:
    # 23 operations x (14 botocore throttling codes + a bare 429).
    assert len(MATRIX) == len(OPERATIONS) * len(CODES) == 23 * 15
