"""Step 8 of Expel's Control Tower guide: our s3:ObjectCreated:* entry in the log bucket's notification configuration.

PutBucketNotificationConfiguration replaces the whole document, and other teams' entries live in
it too. So the pure functions below change only the entry whose Id is ours and hand every other
entry (its Id, position, filter and destination, and EventBridgeConfiguration) back as it was read.
"""

from __future__ import annotations

import copy
import json
import random
import shlex
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from expel_onboarding.errors import (
    ConcurrentModification,
    DestinationValidationFailed,
    NotificationOverlap,
    NotYetPropagated,
    error_code,
    error_message,
    is_explicit_deny,
    translate,
)
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

STEP = "Notification"
OBJECT_CREATED = "s3:ObjectCreated:*"
ENTRY_LISTS = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")
DESTINATION_KEYS = {
    "TopicConfigurations": "TopicArn",
    "QueueConfigurations": "QueueArn",
    "LambdaFunctionConfigurations": "LambdaFunctionArn",
}
MAX_WRITES = 5
# A write whose answer never came back: it may or may not have landed.
LOST_RESPONSE = (ReadTimeoutError, ConnectionClosedError, EndpointConnectionError)
BACKOFF_BASE_SECONDS = 0.5
DENY_ALTERNATIVES = (
    "Control Tower landing zone 4.0's CT.S3.PV.8 (CTS3PV8) denies bucket notification writes on its buckets "
    "to every role but AWSControlTowerExecution, which we never use: redeploy with DeliveryMode=trail-topic."
)

Config = dict[str, Any]
Entry = dict[str, Any]


@dataclass(frozen=True)
class Target:
    bucket: str
    bucket_owner: str
    entry_id: str
    topic_arn: str
    prefix: str = ""
    # Where the organization trail writes its log files (<S3KeyPrefix>/AWSLogs/<o-id>/), for the advice.
    log_root: str = ""
    # The trail's own SNS topic, when it has one (landing zone 4.0): the way around a deny on the bucket.
    trail_topic_arn: str = ""


def normalize(raw: Config) -> Config:
    """The configuration as S3 returned it, without response metadata or empty entry lists."""
    return {
        key: value for key, value in raw.items() if key != "ResponseMetadata" and not (key in ENTRY_LISTS and not value)
    }


def our_entry(target: Target) -> Entry:
    entry: Entry = {"Id": target.entry_id, "TopicArn": target.topic_arn, "Events": [OBJECT_CREATED]}
    if target.prefix:
        # The API's enum is lowercase (moto insists on it); S3 reads it back as "Prefix", see equivalent().
        entry["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": target.prefix}]}}
    return entry


def equivalent(a: Entry, b: Entry) -> bool:
    """Whether two entries mean the same; S3 returns filter rule names capitalized however they were written."""

    def canonical(entry: Entry) -> Entry:
        rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        lowered = [{**rule, "Name": str(rule.get("Name", "")).lower()} for rule in rules]
        return {**entry, "Filter": {"Key": {"FilterRules": lowered}}} if "Filter" in entry else entry

    return canonical(a) == canonical(b)


def find(config: Config, entry_id: str) -> Entry | None:
    for _, entry in entries(config):
        if entry.get("Id") == entry_id:
            return entry
    return None


def entries(config: Config) -> Iterator[tuple[str, Entry]]:
    for list_name in ENTRY_LISTS:
        for entry in config.get(list_name, []):
            yield list_name, entry


def merge(config: Config, entry: Entry) -> Config:
    """config with our entry in place: replaced where our Id already is, appended otherwise."""
    merged = copy.deepcopy(config)
    topics: list[Entry] = merged.setdefault("TopicConfigurations", [])
    index = _position(merged, entry["Id"])
    if index is None:
        topics.append(copy.deepcopy(entry))
    elif not equivalent(topics[index], entry):
        topics[index] = copy.deepcopy(entry)
    return merged


def remove(config: Config, entry_id: str) -> Config:
    """config without the entry whose Id is ours; everything else as it was."""
    result: Config = {}
    for key, value in config.items():
        if key in ENTRY_LISTS:
            kept = [copy.deepcopy(entry) for entry in value if entry.get("Id") != entry_id]
            if kept:
                result[key] = kept
        else:
            result[key] = copy.deepcopy(value)
    return result


def _position(config: Config, entry_id: str) -> int | None:
    for index, entry in enumerate(config.get("TopicConfigurations", [])):
        if entry.get("Id") == entry_id:
            return index
    return None


def _filter_value(entry: Entry, name: str) -> str:
    for rule in entry.get("Filter", {}).get("Key", {}).get("FilterRules", []):
        if str(rule.get("Name", "")).lower() == name:
            return str(rule.get("Value", ""))
    return ""


def entry_prefix(entry: Entry) -> str:
    """The prefix an entry's filter notifies under ("" for the whole bucket)."""
    return _filter_value(entry, "prefix")


def events_overlap(ours: list[str], theirs: list[str]) -> bool:
    """Two event lists overlap when an event of one is, or is covered by a wildcard of, the other."""

    def covers(a: str, b: str) -> bool:
        return a == b or (a.endswith(":*") and b.startswith(a[:-1]))

    return any(covers(a, b) or covers(b, a) for a in ours for b in theirs)


def filters_overlap(ours: Entry, theirs: Entry) -> bool:
    """S3 refuses two entries whose prefixes overlap and whose suffixes overlap (empty matches all)."""
    prefix_a, prefix_b = _filter_value(ours, "prefix"), _filter_value(theirs, "prefix")
    suffix_a, suffix_b = _filter_value(ours, "suffix"), _filter_value(theirs, "suffix")
    prefixes = prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
    suffixes = suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a)
    return prefixes and suffixes


def overlapping(config: Config, entry: Entry) -> list[tuple[str, Entry]]:
    """Foreign entries that S3 would call ambiguous beside ours."""
    return [
        (list_name, other)
        for list_name, other in entries(config)
        if other.get("Id") != entry["Id"]
        and events_overlap(entry["Events"], other.get("Events", []))
        and filters_overlap(entry, other)
    ]


def describe(list_name: str, entry: Entry) -> str:
    destination = entry.get(DESTINATION_KEYS[list_name], "?")
    prefix, suffix = _filter_value(entry, "prefix"), _filter_value(entry, "suffix")
    return (
        f"'{entry.get('Id', '(no Id)')}' ({list_name[:-14]} {destination}, events {entry.get('Events')}, "
        f"prefix '{prefix}', suffix '{suffix}')"
    )


def desired_state(config: Config, target: Target, mode: Mode) -> Config:
    return remove(config, target.entry_id) if mode is Mode.REMOVE else merge(config, our_entry(target))


def read(s3: S3Client, target: Target) -> Config:
    try:
        raw = s3.get_bucket_notification_configuration(Bucket=target.bucket, ExpectedBucketOwner=target.bucket_owner)
    except ClientError as exc:
        raise translate(exc, "s3:GetBucketNotification", target.bucket, DENY_ALTERNATIVES) from exc
    return normalize(dict(raw))


def write(s3: S3Client, target: Target, config: Config) -> None:
    # Destination validation stays on: it proves the topic policy lets this bucket publish.
    s3.put_bucket_notification_configuration(
        Bucket=target.bucket,
        ExpectedBucketOwner=target.bucket_owner,
        NotificationConfiguration=config,  # type: ignore[arg-type]
    )


def put_command(bucket: str, config: Config) -> str:
    """The exact CLI command that writes config as the bucket's whole notification configuration."""
    document = json.dumps(config, separators=(",", ":"))
    return (
        f"aws s3api put-bucket-notification-configuration --bucket {bucket} --notification-configuration '{document}'"
    )


def removal_command(target: Target) -> str:
    """The command that takes our entry, and only ours, off the bucket by hand (for what a failed removal left)."""
    keep_others = (
        f"jq --arg id {shlex.quote(target.entry_id)} 'del(.ResponseMetadata) | with_entries(if (.value | type) == "
        '"array" then .value |= map(select(.Id != $id)) else . end)\''
    )
    bucket = shlex.quote(target.bucket)
    return (
        f"aws s3api get-bucket-notification-configuration --bucket {bucket} --output json | {keep_others} "
        f"> notification.json && aws s3api put-bucket-notification-configuration --bucket {bucket} "
        "--notification-configuration file://notification.json"
    )


def denied(exc: ClientError, target: Target, mode: Mode, desired: Config, ours_there: bool = False) -> StepReport:
    """An explicit deny on our write: never retried, never a failed stack; what to do instead."""
    # Refused: the run takes back a key statement it added, since no events will come (see the ASL).
    data = {"Bucket": target.bucket, "NotificationId": target.entry_id, "ExplicitDeny": True, "Refused": True}
    found = f"s3:PutBucketNotification on {target.bucket} is blocked by an explicit deny ({error_message(exc)})."
    if mode is Mode.REMOVE:
        # S3 re-validates every destination on each write ("Unable to validate the following destination
        # configurations"), so an entry whose topic is gone blocks everyone's next write, not only ours.
        detail = (
            f"{found} Our entry '{target.entry_id}' stays on the bucket, pointing at {target.topic_arn}, which "
            "this removal deletes: from then on S3 delivers its events nowhere, and every later write of the "
            "bucket's notification configuration, by anyone, fails S3's destination validation until the entry "
            "is gone. Control Tower landing zone 4.0's CT.S3.PV.8 lets only AWSControlTowerExecution change the "
            "bucket's notifications, so your Control Tower administrators, who may use that role, remove our "
            f"entry, and only ours, with: {put_command(target.bucket, desired)}"
        )
    elif ours_there:
        # The relay beside our entry would deliver every file twice: the fix is to keep the entry as it is.
        detail = (
            f"{found} Our entry '{target.entry_id}' is on the bucket but not as this stack would write it, and "
            "Control Tower landing zone 4.0's CT.S3.PV.8 lets no role of ours change it; it keeps notifying what "
            "its own filter covers. Make the stack adopt it as it is: sam deploy --parameter-overrides "
            "LogTargetRevision=<a new value> (with DeliveryMode=auto and NotificationPrefix empty)"
        )
    elif target.trail_topic_arn:
        detail = (
            f"{found} This is Control Tower landing zone 4.0's CT.S3.PV.8, which lets no role of ours change the "
            f"log bucket's notifications. Switch to the trail's own topic, {target.trail_topic_arn}, which carries "
            "the same events: sam deploy --parameter-overrides DeliveryMode=auto (or trail-topic)"
        )
    else:
        # The trail had no topic when the stack read it (landing zone 3.x): an upgrade to 4.0 since then, or a
        # deny of the organization's own. Either way, what fixes it is said; a relay is no fix without a topic.
        detail = (
            f"{found} When this stack read the organization trail, it had no SNS topic. If Control Tower was "
            "upgraded to landing zone 4.0 since (its CT.S3.PV.8 denies this write), the trail has one now: "
            "sam deploy --parameter-overrides LogTargetRevision=<a new value> DeliveryMode=auto (or trail-topic) "
            "reads it again and relays from its topic. Otherwise the deny is a service control policy of your "
            "organization or a statement of the bucket's policy: ask its owner to exempt this stack's Notification "
            f"function role (aws:PrincipalArn) for s3:PutBucketNotification on arn:aws:s3:::{target.bucket}, then "
            "run expel-onboarding repair."
        )
    return StepReport(STEP, Status.ACTION_REQUIRED, detail, data)


def _raise_for_write(exc: ClientError, target: Target) -> None:
    if error_code(exc) == "InvalidArgument" and "destination" in error_message(exc).lower():
        # S3 names each destination it could not validate beside the message (ArgumentName1, ...). When
        # it is only our own topic, whose policy the stack has just written, it is propagation.
        named = [str(v) for k, v in exc.response.get("Error", {}).items() if k.startswith("ArgumentName")]
        if named and set(named) == {target.topic_arn}:
            raise NotYetPropagated(
                f"S3 could not validate our own topic {target.topic_arn} yet: {error_message(exc)}.",
                "nothing if a retry passes; if it persists, check that NotificationTopicPolicy lets "
                f"s3.amazonaws.com publish from {target.bucket}.",
            ) from exc
        raise DestinationValidationFailed(
            f"S3 refused the notification configuration of {target.bucket}: {error_message(exc)}. "
            "S3 re-validates every destination on each write, so a broken entry of another team "
            "blocks ours.",
            "ask the owner of the entry S3 names to repair its destination or remove the entry, then re-run.",
        ) from exc
    raise translate(exc, "s3:PutBucketNotification", target.bucket, DENY_ALTERNATIVES) from exc


def converge(
    s3: S3Client,
    target: Target,
    mode: Mode,
    *,
    sleep: Callable[[float], None] = time.sleep,
    preflight: bool = False,
) -> StepReport:
    """Read, decide, write only if needed, re-read; merge again if a concurrent writer interfered.

    A preflight stops before the write: it reports what the write would do, or raises what it would meet."""
    current = read(s3, target)
    desired = desired_state(current, target, mode)
    data = {"Bucket": target.bucket, "NotificationId": target.entry_id}
    if desired == current:
        return StepReport(STEP, Status.OK, _settled(target, mode), data)
    if mode is Mode.CHECK:
        found = find(current, target.entry_id)
        what = "is missing" if found is None else f"differs: {found}"
        return StepReport(STEP, Status.DRIFTED, f"Our entry '{target.entry_id}' on {target.bucket} {what}.", data)
    for attempt in range(MAX_WRITES):
        if mode is not Mode.REMOVE:
            refuse_overlap(current, target)
        if preflight:
            verb = "remove our entry from" if mode is Mode.REMOVE else "add our entry to"
            return StepReport(STEP, Status.DRIFTED, f"Would {verb} {target.bucket}; no other entry overlaps.", data)
        before = current
        deny = _try_write(s3, target, desired, attempt, sleep)
        if deny is not None:
            return denied(deny, target, mode, desired, find(before, target.entry_id) is not None)
        current = read(s3, target)
        desired = desired_state(current, target, mode)
        if desired == current:
            # Undone by putting back the configuration our write replaced, if nobody wrote after us.
            undo = {"Before": before, "After": current}
            return StepReport(STEP, Status.CHANGED, _changed(target, mode), data, undo)
    raise ConcurrentModification(
        f"The notification configuration of {target.bucket} changed under us {MAX_WRITES} times in a row.",
        "find the other automation writing it (CloudTrail: PutBucketNotification events), pause it and re-run.",
    )


def _try_write(
    s3: S3Client, target: Target, config: Config, attempt: int, sleep: Callable[[float], None]
) -> ClientError | None:
    """One write of config. An explicit deny is returned, for the caller to report; a 409 or a lost answer
    waits with jitter, and the caller's re-read tells whether the write landed; anything else raises."""
    try:
        write(s3, target, config)
    except ClientError as exc:
        if is_explicit_deny(exc):
            return exc
        if error_code(exc) != "OperationAborted":
            _raise_for_write(exc, target)
        sleep(random.uniform(0, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311 - jitter, not crypto
    except LOST_RESPONSE:
        sleep(random.uniform(0, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311 - jitter, not crypto
    return None


def refuse_overlap(config: Config, target: Target) -> None:
    conflicts = overlapping(config, our_entry(target))
    if conflicts:
        names = "; ".join(describe(list_name, entry) for list_name, entry in conflicts)
        # A narrower prefix than the trail's log root would leave accounts out: only a wider one may move.
        narrower = (
            f"set NotificationPrefix={target.log_root} (where the trail writes its log files) if that entry "
            "does not cover it, "
            if target.log_root and target.log_root != target.prefix
            else ""
        )
        raise NotificationOverlap(
            f"{target.bucket} already sends these events to {names}; S3 refuses overlapping entries.",
            f"{narrower}ask that entry's owner to narrow its prefix or suffix, or let that consumer subscribe "
            f"to our topic {target.topic_arn} instead, which carries the same events.",
        )


def _settled(target: Target, mode: Mode) -> str:
    if mode is Mode.REMOVE:
        return f"Our entry '{target.entry_id}' is not on {target.bucket}; nothing to remove."
    return f"{target.bucket} notifies {target.topic_arn} through our entry '{target.entry_id}'."


def _changed(target: Target, mode: Mode) -> str:
    if mode is Mode.REMOVE:
        return f"Removed our entry '{target.entry_id}' from {target.bucket}; other entries untouched."
    return f"{target.bucket} now notifies {target.topic_arn} through our entry '{target.entry_id}'."


def undo(
    s3: S3Client,
    target: Target,
    record: Mapping[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> StepReport:
    """Put back the configuration this run's write replaced, because a later step failed.

    S3 has no conditional write: the configuration goes back only while it is still exactly what we wrote;
    when someone changed it since, theirs stays and we say what of ours remains."""
    data = {"Bucket": target.bucket, "NotificationId": target.entry_id}
    if not record:
        return StepReport(STEP, Status.OK, f"This run did not change {target.bucket}: nothing to undo.", data)
    before, after = normalize(dict(record["Before"])), normalize(dict(record["After"]))
    for attempt in range(MAX_WRITES):
        current = read(s3, target)
        if current == before:
            detail = f"Undone: the notification configuration of {target.bucket} is back as it was before this run."
            return StepReport(STEP, Status.CHANGED if attempt else Status.OK, detail, data)
        if current != after:
            return _changed_since(current, before, target, data)
        deny = _try_write(s3, target, before, attempt, sleep)
        if deny is not None:
            ours = find(after, target.entry_id) is not None
            return denied(deny, target, Mode.REMOVE if ours else Mode.APPLY, before)
    raise ConcurrentModification(
        f"The notification configuration of {target.bucket} changed under us {MAX_WRITES} times while undoing.",
        "find the other automation writing it (CloudTrail: PutBucketNotification events), pause it and re-run.",
    )


def _changed_since(current: Config, before: Config, target: Target, data: Mapping[str, Any]) -> StepReport:
    """Someone wrote the configuration after us: keep theirs, and say what of ours differs from before."""
    ours_now, ours_before = find(current, target.entry_id), find(before, target.entry_id)
    if ours_now == ours_before:
        detail = f"{target.bucket} changed after our write, and our entry is as it was before this run."
        return StepReport(STEP, Status.OK, detail, data)
    put_back = merge(current, ours_before) if ours_before else remove(current, target.entry_id)
    detail = (
        f"{target.bucket} changed after our write, so we do not put back the old configuration over that change. "
        f"Our entry '{target.entry_id}' is not as it was before this run; put back only ours with: "
        f"{put_command(target.bucket, put_back)}"
    )
    return StepReport(STEP, Status.ACTION_REQUIRED, detail, data)
