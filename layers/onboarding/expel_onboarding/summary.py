"""The Outputs step: one answer for every run, whether it converged, drifted or failed.

It turns the state machine's accumulated reports into the Workbench values and the step table,
and names the step that failed (the first one in the mode's order without a report) with the
cause in words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from expel_onboarding.reports import Mode, Status
from expel_onboarding.settings import Settings

ORDER = {
    Mode.APPLY: ["Discover", "Ownership", "KeyPolicy", "Notification", "Verify"],
    Mode.CHECK: ["Discover", "Ownership", "KeyPolicy", "Notification", "Verify"],
    Mode.REPAIR: ["Discover", "Ownership", "KeyPolicy", "Notification", "Verify"],
    Mode.REMOVE: ["Discover", "Notification", "KeyPolicy", "Ownership"],
}


def cause_in_words(failure: Mapping[str, Any]) -> str:
    """'NotificationOverlap: the bucket already ...' from a Step Functions error and cause."""
    error, cause = str(failure.get("Error", "Error")), str(failure.get("Cause", ""))
    try:
        parsed = json.loads(cause)
    except ValueError:
        return f"{error}: {cause}" if cause else error
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return f"{parsed.get('errorType', error)}: {parsed['errorMessage']}"
    return f"{error}: {cause}"


def summarize(state: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    raw_mode = str(state.get("Mode"))
    # A run started with a bad mode failed at Discover; its summary must still say so.
    order = ORDER[Mode(raw_mode)] if raw_mode in set(Mode) else ORDER[Mode.APPLY]
    failure = state.get("Failure")
    steps: list[dict[str, str]] = []
    for name in order:
        report = state.get(name)
        if report:
            steps.append({"Name": name, "Status": str(report["Status"]), "Detail": str(report["Detail"])})
        elif failure:
            steps.append({"Name": name, "Status": Status.FAILED.value, "Detail": cause_in_words(failure)})
            break
    discovered = (state.get("Discover") or {}).get("Data", {})
    statuses = [step["Status"] for step in steps]
    return {
        "RoleArn": settings.expel_role_arn,
        "SqsUrl": settings.queue_url,
        "ManagementAccountId": str(discovered.get("ManagementAccountId", "")),
        "Region": settings.region,
        "DeliveryMode": settings.delivery_mode.value,
        "DeliveryReason": settings.delivery_reason,
        "Mode": raw_mode,
        "Steps": steps,
        "Changed": Status.CHANGED.value in statuses,
        "Failed": failure is not None,
        "FailureCause": cause_in_words(failure) if failure else "",
        "ActionRequired": [s["Name"] for s in steps if s["Status"] == Status.ACTION_REQUIRED.value],
    }


def count(summary: Mapping[str, Any], status: Status) -> int:
    return sum(1 for step in summary["Steps"] if step["Status"] == status.value)
