"""The organization trail as a stack was built for it: where its log files land, and what changed since.

Control Tower's organization trail writes under a key prefix, the organization id (as AWS's sample
aws-samples/running-sql-on-org-audit-logs-using-partition-projection shows), and an organization trail
adds the organization id again below AWSLogs/ (AWS CloudTrail user guide, "Finding your
CloudTrail log files": bucket/[prefix]/AWSLogs/O-ID/AccountID/CloudTrail/Region/YYYY/MM/DD/file_name).
So a notification prefix such as AWSLogs/ matches no log file of a real landing zone: the prefix that
fits is read from the trail, never assumed.

The trail can also move under a deployed stack (a landing-zone update, a re-enabled CloudTrail
integration with a new bucket, a new key). Every run compares the trail of today with the record the
stack keeps of the one it was built for, and names each change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import NotificationPrefixCannotMatch

# The folders below the log root, then the file name ("CloudTrail log file examples":
# AccountID_CloudTrail_RegionName_YYYYMMDDTHHmmZ_UniqueString.json.gz). Each is a complete-folder pattern
# and a pattern for a folder cut short, which a prefix may end with. The region and the file name are
# read leniently: a prefix is refused only when no log key can start with it.
_FOLDERS: tuple[tuple[str, str], ...] = (
    (r"[0-9]{12}", r"[0-9]{0,12}"),
    ("CloudTrail", "C|Cl|Clo|Clou|Cloud|CloudT|CloudTr|CloudTra|CloudTrai|CloudTrail"),
    (r"[a-z]+(-[a-z]+)+-[0-9]+", r"[a-z0-9-]*"),
    (r"[0-9]{4}", r"[0-9]{0,4}"),
    (r"[0-9]{2}", r"[0-9]{0,2}"),
    (r"[0-9]{2}", r"[0-9]{0,2}"),
    (r"[0-9]{12}_CloudTrail_[A-Za-z0-9_.-]+", r"[A-Za-z0-9_.-]*"),
)


def log_root(key_prefix: str, organization_id: str) -> str:
    """The folder every log file of an organization trail is under: <S3KeyPrefix>/AWSLogs/<o-id>/."""
    prefix = key_prefix.strip("/")
    return f"{prefix + '/' if prefix else ''}AWSLogs/{organization_id}/"


def can_match(prefix: str, root: str) -> bool:
    """Whether some log file key under root can start with prefix (a notification filter's prefix)."""
    if root.startswith(prefix):
        return True
    if not prefix.startswith(root):
        return False
    *folders, last = prefix[len(root) :].split("/")
    if len(folders) >= len(_FOLDERS):
        return False
    for (whole, _), folder in zip(_FOLDERS, folders, strict=False):
        if not re.fullmatch(whole, folder):
            return False
    return re.fullmatch(f"(?:{_FOLDERS[len(folders)][1]})?", last) is not None


def next_revision(revision: str) -> str:
    """A LogTargetRevision value other than the current one, to make the stack read the trail again: its
    trailing number counted up ("1" -> "2", "v-2" -> "v-3"), else "-2" added; within the parameter's 64."""
    counted = re.fullmatch(r"(.*?)([0-9]+)", revision)
    following = f"{counted.group(1)}{int(counted.group(2)) + 1}" if counted else f"{revision}-2"
    return following if len(following) <= 64 else "2" if revision != "2" else "3"


@dataclass(frozen=True)
class TrailRecord:
    """What the stack read from the organization trail at deploy time (the LogTarget resource)."""

    trail_arn: str = ""
    bucket: str = ""
    key_prefix: str = ""
    kms_key_id: str = ""
    topic_arn: str = ""
    home_region: str = ""
    organization_id: str = ""
    revision: str = "1"

    @classmethod
    def of(cls, trail: Mapping[str, Any], organization_id: str, revision: str = "1") -> TrailRecord:
        """The record of a trail as DescribeTrails returns it."""
        return cls(
            trail_arn=str(trail.get("TrailARN", "")),
            bucket=str(trail.get("S3BucketName", "")),
            key_prefix=str(trail.get("S3KeyPrefix", "")),
            kms_key_id=str(trail.get("KmsKeyId", "")),
            topic_arn=str(trail.get("SnsTopicARN", "")),
            home_region=str(trail.get("HomeRegion", "")),
            organization_id=organization_id,
            revision=revision,
        )

    @classmethod
    def parse(cls, text: str) -> TrailRecord:
        fields = json.loads(text) if text else {}
        return cls(**{name: str(value) for name, value in fields.items() if name in cls.__dataclass_fields__})

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @property
    def log_root(self) -> str:
        return log_root(self.key_prefix, self.organization_id)

    def changes(self, now: TrailRecord) -> list[str]:
        """What differs between this record and the trail of today, in words: 'key prefix: a -> b'."""
        compared = {
            "bucket": (self.bucket, now.bucket),
            "key prefix": (self.key_prefix, now.key_prefix),
            "KMS key": (self.kms_key_id, now.kms_key_id),
            "SNS topic": (self.topic_arn, now.topic_arn),
            "home region": (self.home_region, now.home_region),
        }
        return [
            f"{name}: {before or '(none)'} -> {after or '(none)'}"
            for name, (before, after) in compared.items()
            if before != after
        ]


def refuse_unmatched_prefix(prefix: str, record: TrailRecord) -> None:
    """A NotificationPrefix under which the trail writes no log file would deliver nothing, silently."""
    if not prefix or can_match(prefix, record.log_root):
        return
    raise NotificationPrefixCannotMatch(
        f"NotificationPrefix is {prefix}, but the organization trail {record.trail_arn} writes its log files "
        f"under {record.log_root} (its S3KeyPrefix {record.key_prefix or '(none)'}, then AWSLogs/ and the "
        "organization id), so no log file would ever be notified.",
        f"set NotificationPrefix={record.log_root}, or leave it empty, which means the same.",
    )


@dataclass(frozen=True)
class TrailMoved:
    changes: list[str]
    detail: str


def moved_since(built: TrailRecord, now: TrailRecord | None, mode: DeliveryMode, prefix: str) -> TrailMoved | None:
    """What changed on the trail since the stack was built for it, what that does to delivery, and the
    command that adapts the stack; None when nothing did (or the stack keeps no record of its trail)."""
    if not built.trail_arn:
        return None
    if now is None:
        changes = [f"trail: {built.trail_arn} -> (no organization trail visible)"]
        effects = [f"no trail visible from here writes to {built.bucket} any more"]
        return TrailMoved(
            changes, _moved_detail(changes, effects, [f"LogTargetRevision={next_revision(built.revision)}"])
        )
    changes = built.changes(now)
    unmatched = mode is DeliveryMode.BUCKET_NOTIFICATION and bool(prefix) and not can_match(prefix, now.log_root)
    if unmatched:
        changes.append(f"log files: under {built.log_root} -> under {now.log_root}")
    if not changes:
        return None
    effects = []
    if now.bucket != built.bucket:
        effects.append(f"log files no longer land in {built.bucket}, which this stack watches")
    elif unmatched:
        effects.append(f"our bucket entry notifies only under {prefix}, where no log file lands any more")
    elif now.key_prefix != built.key_prefix:
        follows = (
            "the relay follows what CloudTrail announces"
            if mode is DeliveryMode.TRAIL_TOPIC
            else (f"our entry's prefix {prefix or '(none)'} still covers {now.log_root}")
        )
        effects.append(f"delivery goes on, since {follows}")
    if now.topic_arn != built.topic_arn:
        if mode is DeliveryMode.TRAIL_TOPIC:
            effects.append(
                f"the relay listens to {built.topic_arn or '(no topic)'}, where the trail no longer publishes"
            )
        else:
            effects.append(
                "the trail's topic does not carry our delivery (our bucket entry does); while that entry is there, "
                "auto stays on it, since the relay beside it would deliver every file twice"
            )
    if now.kms_key_id != built.kms_key_id:
        effects.append(f"Workbench needs kms:Decrypt on {now.kms_key_id or 'no key'}, which the next apply grants")
    if now.home_region != built.home_region:
        effects.append(
            f"the trail's home region is now {now.home_region or '(none)'}, where its bucket and topic are: deploy "
            f"this stack there (sam deploy --region {now.home_region})"
        )
    overrides = [f"LogTargetRevision={next_revision(built.revision)}"]
    if now.bucket != built.bucket:
        # Right whether LogBucketName was given or left empty: LogTarget checks it is the trail's bucket.
        overrides.append(f"LogBucketName={now.bucket}")
    if unmatched and prefix != built.log_root:
        # A prefix that was given stays given; an empty one follows the trail by itself.
        overrides.append(f"NotificationPrefix={now.log_root}")
    return TrailMoved(changes, _moved_detail(changes, effects, overrides))


def _moved_detail(changes: list[str], effects: list[str], overrides: list[str]) -> str:
    return (
        f"The organization trail changed since this stack was deployed ({'; '.join(changes)}): {'; '.join(effects)}. "
        f"Make the stack read the trail again: sam deploy --parameter-overrides {' '.join(overrides)}"
    )
