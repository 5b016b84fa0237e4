"""The CloudFormation side of Custom::Onboarding: physical ids and what an update moved.

The physical id names the target (bucket and key), so it stays the same across updates that keep
the target, and changes when an update moves it. CloudFormation then sends a Delete for the old id
with the old properties; that Delete removes our entries only from what moved.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from expel_onboarding.errors import InvalidInput
from expel_onboarding.settings import OVERRIDABLE, Settings

PREFIX = "ExpelOnboarding:"
# What a property missing from a stack deployed before it existed meant.
BEFORE_DELIVERY_MODES = {"DeliveryMode": "bucket-notification"}
# Time kept back from the Lambda's own deadline to report to CloudFormation before it is killed.
REPORT_MARGIN_SECONDS = 20
# Every step function's Timeout (template.yaml's Globals): how long a step may go on after its run stopped.
# The bridge's Timeout covers the run's TimeoutSeconds, this and the margin (tests/template hold them).
STEP_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class BridgeSettings:
    state_machine_arn: str


@cache
def bridge_settings() -> BridgeSettings:
    # Only the bridge knows the state machine: giving it to every step would make a dependency cycle.
    if "STATE_MACHINE_ARN" not in os.environ:
        raise InvalidInput("STATE_MACHINE_ARN is not set.", "deploy the bridge function from template.yaml.")
    return BridgeSettings(os.environ["STATE_MACHINE_ARN"])


def physical_id(bucket: str, key_arn: str, delivery_mode: str) -> str:
    # bucket-notification, the only mode before trail-topic existed, keeps the ids stacks already have:
    # a changed id would make CloudFormation's cleanup remove what did not move.
    mode = "" if delivery_mode == BEFORE_DELIVERY_MODES["DeliveryMode"] else f"|{delivery_mode}"
    digest = hashlib.sha256(f"{bucket}|{key_arn}{mode}".encode()).hexdigest()[:16]
    return f"{PREFIX}{bucket}:{digest}"


def current_physical_id(settings: Settings) -> str:
    return physical_id(settings.log_bucket, settings.cloudtrail_key_arn, settings.delivery_mode.value)


def is_ours(physical_resource_id: str) -> bool:
    """False for the id crhelper invents when a Create fails, so that rollback Delete does nothing."""
    return physical_resource_id.startswith(PREFIX)


def moved(properties: Mapping[str, Any], settings: Settings) -> dict[str, str]:
    """The old values of what an update moved away from, named as the run's Override expects."""
    current = {
        "LogBucketName": settings.log_bucket,
        "CloudTrailKeyArn": settings.cloudtrail_key_arn,
        "DeliveryMode": settings.delivery_mode.value,
    }
    old = {name: str(properties.get(name, BEFORE_DELIVERY_MODES.get(name, ""))) for name in OVERRIDABLE}
    return {name: value for name, value in old.items() if value != current[name]}


def workbench_values(summary: Mapping[str, Any]) -> dict[str, str]:
    """What the stack outputs show, from the run's summary."""
    action = summary.get("ActionRequired") or []
    return {
        "RoleArn": str(summary["RoleArn"]),
        "SqsUrl": str(summary["SqsUrl"]),
        "ManagementAccountId": str(summary["ManagementAccountId"]),
        "Region": str(summary["Region"]),
        "DeliveryMode": ": ".join(str(summary[k]) for k in ("DeliveryMode", "DeliveryReason") if summary.get(k)),
        "ActionRequired": ", ".join(action) if action else "none",
    }


def left_in_place(remaining: list[Mapping[str, str]]) -> str:
    """What a completed removal left behind, for the Delete's Reason: CloudFormation shows a SUCCESS
    response's Reason as the event's status reason, as it does for AWS's own cfn-response module
    (CloudFormation user guide, "cfn-response module"), and keeps a deleted stack's events, so it outlives
    the stack's logs and runs. It keeps 256 characters: what and where first."""
    items = "; ".join(f"{item['What']} ({item['Where']})" for item in remaining)
    return f"Left in place: {items}. To remove it, see the README, After an upgrade to 4.0."
