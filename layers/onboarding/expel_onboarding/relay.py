"""The relay: CloudTrail's delivery messages, republished on our topic as the S3 events Workbench reads.

Since Control Tower landing zone 4.0 the log bucket's notification configuration cannot be written
(CT.S3.PV.8 denies PutBucketNotification), so S3 cannot tell our topic about new log files. The
organization trail's own topic (aws-controltower-CentralizedLoggingNotifications) still can: for each
delivery CloudTrail publishes `{"s3Bucket": ..., "s3ObjectKey": [...]}` ("Configuring Amazon SNS
notifications for CloudTrail"). Our relay queue is subscribed to it with raw delivery, and the relay
turns each such message into one S3 event per log file, as S3 itself would have published them.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from botocore.exceptions import ClientError

from expel_onboarding.errors import (
    OBJECT_GONE_CODES,
    THROTTLING_CODES,
    AwsThrottled,
    PublishFailed,
    PublishThrottled,
    error_code,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import PublishBatchRequestEntryTypeDef

# SNS PublishBatch: at most 10 entries, and at most 256 KiB for all of them together.
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024
# What SNS answers for an entry it throttled: its own throttles, and the KMS throttling of an encrypted topic
# (Amazon SNS API reference, PublishBatch, Errors: KMSThrottling).
RETRIED_CODES = THROTTLING_CODES | {"KMSThrottling", "KMSThrottlingException"}
# CloudTrail publishes a file's message when it delivers the file ("Configuring Amazon SNS notifications for
# CloudTrail"), seconds after it lands. The trail's topic lets anyone in its account publish (CT.SNS.PV.1
# leaves sns:Publish open), so a message naming a file that landed this long before it is not CloudTrail's
# delivery: it is skipped, never re-announced to Workbench (refilling a gap is expel-onboarding replay's job).
STALE_AFTER_MS = 60 * 60 * 1000
# The Subject S3 gives its own SNS notifications; raw-delivery subscribers never see it, envelope ones do.
SUBJECT = "Amazon S3 Notification"

LOG_OBJECT = re.compile(
    r"^(?:.+/)?AWSLogs/"  # the trail's S3KeyPrefix, if it has one
    r"(?:o-[a-z0-9]{10,32}/)?"  # an organization trail adds the organization id
    r"[0-9]{12}/CloudTrail/[a-z0-9-]+/[0-9]{4}/[0-9]{2}/[0-9]{2}/"
    r"[0-9]{12}_CloudTrail_[a-z0-9-]+_[0-9]{8}T[0-9]{4}Z_[A-Za-z0-9]+\.json\.gz$"
)

Record = dict[str, Any]


@dataclass(frozen=True)
class Target:
    bucket: str
    bucket_owner: str
    region: str
    partition: str
    topic_arn: str
    configuration_id: str


@dataclass(frozen=True)
class Delivery:
    """One CloudTrail delivery message: the bucket and the keys of the files just written."""

    bucket: str
    keys: tuple[str, ...]


# S3 user guide, "Event message structure": since version 2.4 one version covers every event type, and
# the page shows 2.5 for the current structure. Consumers compare the major version and accept a newer minor.
EVENT_VERSION = "2.5"
# CloudTrail's service principal writes every log file (CloudTrail user guide, "Amazon S3 bucket policy for
# CloudTrail"); for a call made by an AWS service, CloudTrail's own records give the service's name as the
# source address ("CloudTrail record contents", sourceIPAddress). The relay never saw S3's request, so it
# says who made it, as CloudTrail would.
WRITER = "cloudtrail.amazonaws.com"


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str
    version_id: str | None = None
    # When S3 stored the object, in milliseconds since the epoch: the event's sequencer.
    last_modified_ms: int = 0
    # S3's answer to our HeadObject: its request id and host id, which S3 support can trace.
    request_id: str = ""
    host_id: str = ""


@dataclass(frozen=True)
class Skipped:
    key: str
    reason: str
    # Named by a message long after it landed: a replayed or forged message, not CloudTrail's delivery.
    stale: bool = False


@dataclass(frozen=True)
class Outcome:
    """What one SQS record came to: the keys published as S3 events, and what was left out and why."""

    published: tuple[str, ...]
    skipped: tuple[Skipped, ...]


def parse(body: str) -> Delivery | None:
    """The CloudTrail delivery in an SQS body, or None for anything else (a test message, a stray)."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    bucket, keys = message.get("s3Bucket"), message.get("s3ObjectKey")
    if not isinstance(bucket, str) or not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        return None
    return Delivery(bucket, tuple(keys))


def is_log_object(key: str) -> bool:
    """Whether key names a CloudTrail log file, the only objects Workbench reads.

    The layout is CloudTrail's, from the CloudTrail user guide, "Finding your CloudTrail log files"
    (bucket/[prefix/]AWSLogs/[O-ID/]AccountID/CloudTrail/Region/YYYY/MM/DD/file) and "CloudTrail log
    file examples" (AccountID_CloudTrail_RegionName_YYYYMMDDTHHmmZ_UniqueString.json.gz). Digest files
    (CloudTrail-Digest/), Insights files (CloudTrail-Insight/) and anything else do not match. The
    UniqueString is documented as 16 characters; we accept any length, so that a change there cannot
    silently drop logs.
    """
    return LOG_OBJECT.match(key) is not None


def encode_key(key: str) -> str:
    """The key as S3 writes it into an event: form-encoded (space as '+'), with '/' left as it is.

    S3's "Event message structure" says only that the key is URL-encoded ("red flower.jpg" becomes
    "red+flower.jpg"). Events from S3 itself keep '/' (reported against real S3 in minio/minio#11665),
    while moto's quote_plus without safe characters writes %2F. Consumers unquote_plus either form
    to the same key; keeping '/' makes our events byte-for-byte like S3's for CloudTrail's keys.
    """
    return quote_plus(key, safe="/")


def event_time(sent_timestamp_ms: int) -> str:
    """ISO 8601 in UTC with milliseconds, as S3 writes eventTime.

    The SQS SentTimestamp is when CloudTrail's message reached our queue, seconds after the object was
    written. It stays the same when SQS redelivers, so a retried record yields identical events."""
    seconds, millis = divmod(sent_timestamp_ms, 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def sequencer(last_modified_ms: int) -> str:
    """S3's sequencer is "a string representation of a hexadecimal value used to determine event sequence"
    for one key ("Event message structure"); the object's LastModified, in hexadecimal milliseconds,
    orders the events of a key the same way, and stays the same when a record is relayed again."""
    return f"{last_modified_ms:016X}"


def s3_record(target: Target, key: str, head: ObjectHead, when: str) -> Record:
    """One record of an s3:ObjectCreated:Put event, with every field of S3's "Event message structure".

    What the relay knows is real: the bucket, the key, size, ETag and version, the time, and S3's request
    and host ids of the HeadObject that confirmed the object. What only S3's own request knew is given as
    CloudTrail's, the writer of every log file (WRITER), and the bucket owner is its account (the page
    says ownerIdentity is kept only for backward compatibility)."""
    obj: dict[str, Any] = {
        "key": encode_key(key),
        "size": head.size,
        "eTag": head.etag,
        "sequencer": sequencer(head.last_modified_ms),
    }
    if head.version_id is not None:
        obj["versionId"] = head.version_id
    return {
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:s3",
        "awsRegion": target.region,
        "eventTime": when,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": WRITER},
        "requestParameters": {"sourceIPAddress": WRITER},
        "responseElements": {"x-amz-request-id": head.request_id, "x-amz-id-2": head.host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": target.configuration_id,
            "bucket": {
                "name": target.bucket,
                "ownerIdentity": {"principalId": target.bucket_owner},
                "arn": f"arn:{target.partition}:s3:::{target.bucket}",
            },
            "object": obj,
        },
    }


def message(record: Record) -> str:
    """What S3 publishes per object: a Records list of one."""
    return json.dumps({"Records": [record]}, separators=(",", ":"))


def batches(messages: Sequence[str]) -> Iterator[list[str]]:
    """messages in order, cut into PublishBatch calls: at most 10 entries and 256 KiB each."""
    batch: list[str] = []
    size = 0
    for text in messages:
        entry_size = len(text.encode()) + len(SUBJECT.encode())
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + entry_size > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += entry_size
    if batch:
        yield batch


def head(s3: S3Client, target: Target, key: str) -> ObjectHead | None:
    """Size, ETag and version of a log object, or None when it is gone (expired, or deleted since)."""
    try:
        response = s3.head_object(Bucket=target.bucket, Key=key, ExpectedBucketOwner=target.bucket_owner)
    except ClientError as exc:
        if error_code(exc) in OBJECT_GONE_CODES:
            return None
        raise
    metadata = response.get("ResponseMetadata", {})
    return ObjectHead(
        response["ContentLength"],
        response["ETag"].strip('"'),
        response.get("VersionId"),
        int(response["LastModified"].timestamp() * 1000),
        str(metadata.get("RequestId", "")),
        str(metadata.get("HostId", "")),
    )


@dataclass
class Backoff:
    """How long the relay waits before it publishes again what SNS throttled: exponential, with full jitter
    (AWS Architecture Blog, "Exponential Backoff And Jitter"; AWS SDKs and Tools Reference Guide, "Retry
    behavior"), so that relays throttled together do not retry together; and never past the invocation's
    deadline (seconds left, from the Lambda context), keeping time to hand the record back."""

    base_seconds: float = 0.1
    cap_seconds: float = 2.0
    attempts: int = 5
    seconds_left: Callable[[], float] = lambda: float("inf")
    sleep: Callable[[float], None] = lambda seconds: time.sleep(seconds)
    jitter: Callable[[float, float], float] = lambda low, high: random.uniform(low, high)  # noqa: S311 - not a secret
    # Seconds kept back for the rest of the invocation: answering Lambda with the failed records.
    reserve_seconds: float = 3.0
    # Set once SNS throttled past the backoff: the invocation's later records are handed back untried.
    exhausted: bool = False

    def wait(self, attempt: int) -> bool:
        """Wait before attempt (1, 2, ...); False when the attempts or the time are used up."""
        delay = self.jitter(0.0, min(self.cap_seconds, self.base_seconds * 2**attempt))
        if attempt >= self.attempts or self.seconds_left() - delay < self.reserve_seconds:
            self.exhausted = True
            return False
        self.sleep(delay)
        return True


def publish(sns: SNSClient, topic_arn: str, messages: Sequence[str], backoff: Backoff | None = None) -> None:
    """Publish each message on its own, in as few PublishBatch calls as the limits allow.

    A throttle (the whole call, after botocore's own retries, or single entries) is retried for the throttled
    entries only, after backoff. At least once, like S3 itself: when SNS refuses an entry for good, or keeps
    throttling, we raise, the SQS record fails, and its redelivery publishes the whole record again, so a
    consumer can see an event twice."""
    backoff = backoff or Backoff()
    if backoff.exhausted:
        raise PublishThrottled(f"SNS throttled this invocation's publishes to {topic_arn}; not tried again now.")
    for batch in batches(messages):
        pending = {str(index): text for index, text in enumerate(batch)}
        attempt = 0
        while pending:
            entries: list[PublishBatchRequestEntryTypeDef] = [
                {"Id": key, "Message": text, "Subject": SUBJECT} for key, text in pending.items()
            ]
            try:
                failed = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries).get("Failed", [])
            except AwsThrottled:
                failed = [{"Id": key, "Code": "Throttling", "SenderFault": False} for key in pending]
            refused = [entry for entry in failed if entry["Code"] not in RETRIED_CODES]
            if refused:
                reasons = "; ".join(f"{entry['Code']}: {entry.get('Message', '')}" for entry in refused)
                raise PublishFailed(f"SNS refused {len(refused)} of {len(batch)} messages to {topic_arn} ({reasons}).")
            pending = {entry["Id"]: pending[entry["Id"]] for entry in failed}
            attempt += 1
            if pending and not backoff.wait(attempt):
                raise PublishThrottled(
                    f"SNS throttled {len(pending)} of {len(batch)} messages to {topic_arn} past {attempt} attempts; "
                    "the queue delivers the record again."
                )


def relay(
    s3: S3Client, sns: SNSClient, target: Target, body: str, sent_timestamp_ms: int, backoff: Backoff | None = None
) -> Outcome:
    """One SQS record: read the delivery, look up each log file, publish one S3 event per file."""
    delivery = parse(body)
    if delivery is None:
        return Outcome((), (Skipped("", "the message is not a CloudTrail delivery notification"),))
    if delivery.bucket != target.bucket:
        reason = f"the message names bucket {delivery.bucket}, not the log bucket {target.bucket}"
        return Outcome((), tuple(Skipped(key, reason) for key in delivery.keys))
    when = event_time(sent_timestamp_ms)
    published: list[str] = []
    records: list[Record] = []
    skipped: list[Skipped] = []
    for key in delivery.keys:
        if not is_log_object(key):
            skipped.append(Skipped(key, "not a CloudTrail log file (a digest, an Insights file or another object)"))
            continue
        found = head(s3, target, key)
        if found is None:
            skipped.append(Skipped(key, "the object is gone"))
            continue
        if sent_timestamp_ms - found.last_modified_ms > STALE_AFTER_MS:
            landed, sent = event_time(found.last_modified_ms), event_time(sent_timestamp_ms)
            reason = f"the object landed at {landed}, over an hour before the message naming it ({sent})"
            skipped.append(Skipped(key, reason, stale=True))
            continue
        records.append(s3_record(target, key, found, when))
        published.append(key)
    publish(sns, target.topic_arn, [message(record) for record in records], backoff)
    return Outcome(tuple(published), tuple(skipped))
