"""The Outputs step: one answer for every run, whether it converged, drifted or failed.

It turns the state machine's accumulated reports into the Workbench values and the step table,
names the step that failed (the first one in the mode's order without a report, or the steps whose
preflight refused) with the cause in words, and adds what a failed run undid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from expel_onboarding import key_policy, notification, steps, subscription
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.reports import Mode, Status
from expel_onboarding.settings import Settings


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
    mode = Mode(raw_mode) if raw_mode in set(Mode) else Mode.APPLY
    failure = state.get("Failure")
    # A preflight refusal stops the run before its first write; the refusing steps show as FAILED.
    refused = {
        name: report
        for name, report in (state.get("Preflight") or {}).items()
        if isinstance(report, dict) and report.get("Status") == Status.FAILED.value
    }
    rows: list[dict[str, str]] = []
    for name in steps.order(mode):
        report = state.get(name) or refused.get(name)
        if report:
            rows.append(_row(name, report))
        elif failure and not refused:
            rows.append({"Name": name, "Status": Status.FAILED.value, "Detail": cause_in_words(failure)})
            break
    undo_rows = _undo_rows(state, mode)
    statuses = [row["Status"] for row in rows]
    causes = [cause_in_words(failure)] if failure else [str(report["Detail"]) for report in refused.values()]
    discovered = (state.get("Discover") or {}).get("Data", {})
    # A removal a control refused (ACTION_REQUIRED) completes, but leaves ours in place: say what, and how.
    needs_you = any(row["Status"] == Status.ACTION_REQUIRED.value for row in rows + undo_rows)
    remaining = (
        _remaining(rows + undo_rows, settings, discovered) if mode is Mode.REMOVE and (causes or needs_you) else []
    )
    if remaining and causes:
        # First, so that CloudFormation's 256-character Reason keeps it; the commands are in "Remaining".
        left = "; ".join(f"{item['What']} ({item['Where']})" for item in remaining)
        causes.insert(0, f"Left in place: {left}; the commands that remove them are in this run's summary.")
    return {
        "RoleArn": settings.expel_role_arn,
        "SqsUrl": settings.queue_url,
        "ManagementAccountId": str(discovered.get("ManagementAccountId", "")),
        "Region": settings.region,
        "DeliveryMode": settings.delivery_mode.value,
        # What check's delivery report reads: our topic, and where the trail writes its log files.
        "TopicArn": settings.topic_arn,
        "Bucket": str(discovered.get("Bucket", "")),
        "LogRoot": str(discovered.get("LogRoot", "")),
        # Discover's, when it ran: it says so when the trail changed since the mode was chosen.
        "DeliveryReason": str(discovered.get("DeliveryReason") or settings.delivery_reason),
        "Mode": raw_mode,
        "Steps": rows + undo_rows,
        "Changed": Status.CHANGED.value in statuses,
        "Failed": bool(causes),
        "FailureCause": " ".join(causes),
        "ActionRequired": [r["Name"] for r in rows + undo_rows if r["Status"] == Status.ACTION_REQUIRED.value],
        "Remaining": remaining,
    }


def _remaining(rows: list[dict[str, str]], settings: Settings, discovered: Mapping[str, Any]) -> list[dict[str, str]]:
    """What of ours a failed removal left in place, where, and the command that removes it by hand.

    A writer's removal counts only when its row says it is done (OK or CHANGED) and no undo put it back."""
    done = {row["Name"] for row in rows if row["Status"] in (Status.OK.value, Status.CHANGED.value)}
    put_back = {
        row["Name"].removeprefix(steps.UNDO_PREFIX) for row in rows if row["Name"].startswith(steps.UNDO_PREFIX)
    }
    left = [name for name in steps.writers_in_order(Mode.REMOVE) if name not in done or name in put_back]
    found = []
    for name in left:
        if name == steps.NOTIFICATION and settings.delivery_mode is DeliveryMode.TRAIL_TOPIC:
            relay = settings.subscription_target()
            where = f"the relay queue's subscription to {relay.topic_arn}"
            found.append({"What": "our subscription", "Where": where, "Command": subscription.removal_command(relay)})
        elif name == steps.NOTIFICATION:
            entry = settings.notification_target()
            where = f"{entry.bucket}, entry '{entry.entry_id}'"
            found.append(
                {"What": "our notification entry", "Where": where, "Command": notification.removal_command(entry)}
            )
        else:
            key = settings.key_target(str(discovered.get("CloudTrailKeyArn", "")))
            if key is not None:
                where = f"{key.key_arn}, Sid '{key.sid}'"
                command = key_policy.manual_command(key, Mode.REMOVE)
                found.append({"What": "our key policy statement", "Where": where, "Command": command})
    return found


def _row(name: str, report: Mapping[str, Any]) -> dict[str, str]:
    return {"Name": name, "Status": str(report["Status"]), "Detail": str(report["Detail"])}


def _undo_rows(state: Mapping[str, Any], mode: Mode) -> list[dict[str, str]]:
    """What a failed run put back, in the order it did: the reverse of its writes."""
    rows = []
    for name in reversed(steps.writers_in_order(mode)):
        report = state.get(steps.UNDO_PREFIX + name)
        if report:
            rows.append(_row(steps.UNDO_PREFIX + name, report))
    if state.get("UndoFailure"):
        rows.append(
            {
                "Name": steps.UNDO_PREFIX,
                "Status": Status.FAILED.value,
                "Detail": f"Undoing this run's writes failed: {cause_in_words(state['UndoFailure'])}",
            }
        )
    return rows


def count(summary: Mapping[str, Any], status: Status) -> int:
    return sum(1 for step in summary["Steps"] if step["Status"] == status.value)
