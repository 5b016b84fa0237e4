"""The first step: find what the customer did not tell us, and refuse what cannot work.

Workbench needs the management account id; the key step needs the trail's KMS key; and S3 can
notify only a topic in its own region, so the bucket must be in the stack's region. Discovery only
reads, in every mode.

log_target() runs earlier, at deploy time (the LogTarget custom resource): the template needs the
trail's bucket and topic before any step runs, for the Expel role, the function roles and the
relay queue's policy. It names only what the organization trail names; it never guesses a bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from expel_onboarding import notification
from expel_onboarding.delivery import DeliveryMode, account_of, choose, stay_on_bucket_entry
from expel_onboarding.errors import (
    BucketInWrongRegion,
    BucketNotFound,
    KeyNotTheTrails,
    OrganizationNotFound,
    TrailNotFound,
    error_code,
    translate,
)
from expel_onboarding.notification import Entry
from expel_onboarding.reports import Mode, Status, StepReport
from expel_onboarding.trail import TrailRecord, can_match, moved_since, refuse_unmatched_prefix

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3 import S3Client

STEP = "Discover"
NO_ALTERNATIVES = "Grant the read to this stack's discover function role."


# What the relay queue's policy names when the trail has no topic: an ARN that matches no topic, so
# the queue accepts nothing (a policy condition needs some ARN, and naming a real topic would be a guess).
# No topic can ever have this name: a topic name is letters, digits, hyphens and underscores, and only a FIFO
# topic's ends in ".fifo" (Amazon SNS API reference, "CreateTopic"), so nobody can create it to be trusted.
NO_TRAIL_TOPIC = "expel-onboarding.no-trail-topic"


@dataclass(frozen=True)
class Target:
    bucket: str
    account_id: str
    region: str
    key_arn_parameter: str = ""
    delivery_mode: DeliveryMode = DeliveryMode.BUCKET_NOTIFICATION
    delivery_reason: str = ""
    trail_topic_arn: str = ""
    requested_delivery_mode: DeliveryMode = DeliveryMode.AUTO
    # The trail as the stack was built for it, and what our bucket entry filters on.
    built_for: TrailRecord = field(default_factory=TrailRecord)
    notification_prefix: str = ""


@dataclass(frozen=True)
class LogTarget:
    """What the template needs from the organization trail before any step runs."""

    bucket: str
    trail_arn: str
    topic_arn: str
    home_region: str
    delivery_mode: DeliveryMode
    reason: str
    management_account_id: str = ""
    # The trail as the stack is built for it, which every run compares with the trail of that day.
    record: TrailRecord = field(default_factory=TrailRecord)
    # What our bucket entry filters on: the NotificationPrefix given, else the trail's log root.
    notification_prefix: str = ""

    def attributes(self, partition: str, region: str, account_id: str) -> dict[str, str]:
        """The custom resource's Data, which other resources read with Fn::GetAtt."""
        relay_source = self.topic_arn if self.delivery_mode is DeliveryMode.TRAIL_TOPIC else ""
        # The trail's topic may be another account's (trail-topic forced on such a zone): its owner
        # is the aws:SourceAccount of what it delivers.
        return {
            "RelaySourceAccount": account_of(relay_source) or account_id,
            "Bucket": self.bucket,
            "TrailArn": self.trail_arn,
            "TopicArn": relay_source,
            "RelaySourceArn": relay_source or f"arn:{partition}:sns:{region}:{account_id}:{NO_TRAIL_TOPIC}",
            "HomeRegion": self.home_region,
            "ManagementAccountId": self.management_account_id,
            "DeliveryMode": self.delivery_mode.value,
            "Reason": self.reason,
            "Trail": self.record.to_json(),
            "NotificationPrefix": self.notification_prefix,
        }


def visible_trails(cloudtrail: CloudTrailClient) -> list[dict[str, Any]]:
    """Every trail visible here: a member account sees the management account's organization trail
    as a shadow trail (DescribeTrails with includeShadowTrails). One call serves every question below."""
    try:
        return [dict(t) for t in cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]]
    except ClientError as exc:
        raise translate(exc, "cloudtrail:DescribeTrails", "this account's trails", NO_ALTERNATIVES) from exc


def organization_trails(trails: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The organization trails among them, once each."""
    unique = {str(t["TrailARN"]): t for t in trails if t.get("IsOrganizationTrail")}
    return list(unique.values())


def log_target(
    cloudtrail: CloudTrailClient,
    bucket_parameter: str,
    requested: DeliveryMode,
    account_id: str,
    region: str,
    *,
    organization_id: str,
    notification_prefix: str = "",
    our_entry: Callable[[str], Entry | None] = lambda bucket: None,
    revision: str = "1",
) -> LogTarget:
    """The bucket, topic and delivery mode, from the organization trail (LogBucketName may name the bucket).

    our_entry(bucket) is this stack's entry on the bucket's notification configuration, if it is there: on a
    zone that offers trail-topic, an entry that still fires keeps the stack on it (see stay_on_bucket_entry)."""
    trails = organization_trails(visible_trails(cloudtrail))
    where = f"account {account_id} in {region}"
    if bucket_parameter:
        trail = next((t for t in trails if t.get("S3BucketName") == bucket_parameter), None)
        if trail is None and trails:
            names = ", ".join(f"{t['TrailARN']} writes to {t.get('S3BucketName')}" for t in trails)
            raise TrailNotFound(
                f"LogBucketName is {bucket_parameter}, but no organization trail visible from {where} writes "
                f"to it: {names}.",
                "set LogBucketName to the trail's bucket, or leave it empty to use it.",
            )
    else:
        buckets = sorted({str(t.get("S3BucketName", "")) for t in trails})
        if not trails:
            raise TrailNotFound(
                f"No organization trail is visible from {where} (DescribeTrails, shadow trails included).",
                "deploy in the Control Tower Log Archive account and home region, or set LogBucketName to the "
                "bucket your organization trail writes to.",
            )
        if len(buckets) > 1:
            raise TrailNotFound(
                f"Several organization trails are visible from {where}, writing to {', '.join(buckets)}.",
                "set LogBucketName to the bucket Workbench should read.",
            )
        trail = trails[0]
    bucket = bucket_parameter or str(trail["S3BucketName"] if trail else "")
    record = TrailRecord.of(trail or {"S3BucketName": bucket}, organization_id, revision)
    trail_arn, topic_arn = record.trail_arn, record.topic_arn
    choice = choose(requested, trail_arn, topic_arn, account_id, region)
    prefix = notification_prefix or (record.log_root if trail is not None else "")
    # Where the trail offers its own topic (landing zone 4.0), an entry of ours made before (an upgraded zone)
    # may be frozen by CT.S3.PV.8: while it notifies the trail's log files, it is the delivery, as it is.
    offers_topic = choose(DeliveryMode.AUTO, trail_arn, topic_arn, account_id, region).mode is DeliveryMode.TRAIL_TOPIC
    entry = our_entry(bucket) if offers_topic and trail is not None else None
    if entry is not None and can_match(notification.entry_prefix(entry), record.log_root):
        choice = stay_on_bucket_entry(
            requested, bucket, topic_arn, notification.entry_prefix(entry), notification_prefix
        )
        prefix = notification.entry_prefix(entry)
    elif entry is not None and choice.mode is DeliveryMode.TRAIL_TOPIC:
        dead = notification.entry_prefix(entry)
        choice = replace(
            choice,
            reason=f"{choice.reason} This stack's earlier entry on {bucket} notifies only under {dead}, where the "
            "trail writes no log file, so it delivers none of them and the relay alone delivers each once.",
        )
    if choice.mode is DeliveryMode.BUCKET_NOTIFICATION and trail is not None:
        refuse_unmatched_prefix(prefix, record)
    return LogTarget(
        bucket=bucket,
        trail_arn=trail_arn,
        topic_arn=topic_arn,
        home_region=record.home_region,
        delivery_mode=choice.mode,
        reason=choice.reason,
        record=record,
        notification_prefix=prefix,
    )


def our_entry_on(s3: S3Client, entry_id: str, account_id: str) -> Callable[[str], Entry | None]:
    """Our entry (by its Id) on a bucket's notification configuration, or None. Reading it is an s3:Get*,
    which landing zone 4.0's CT.S3.PV.8 allows."""

    def found(bucket: str) -> Entry | None:
        try:
            config = s3.get_bucket_notification_configuration(Bucket=bucket, ExpectedBucketOwner=account_id)
        except ClientError as exc:
            if error_code(exc) in {"NoSuchBucket", "404"}:
                return None
            raise translate(exc, "s3:GetBucketNotification", bucket, NO_ALTERNATIVES) from exc
        return notification.find(dict(config), entry_id)

    return found


def management_account(organizations: OrganizationsClient) -> tuple[str, str]:
    """(management account id, organization id)."""
    try:
        organization = organizations.describe_organization()["Organization"]
    except ClientError as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            raise OrganizationNotFound(
                "This account is not a member of an AWS Organization, so there is no management account.",
                "deploy in the Control Tower Log Archive account of your organization.",
            ) from exc
        raise translate(exc, "organizations:DescribeOrganization", "the organization", NO_ALTERNATIVES) from exc
    return organization["MasterAccountId"], organization["Id"]


def bucket_region(s3: S3Client, target: Target, mode: Mode = Mode.APPLY) -> str:
    try:
        location = s3.get_bucket_location(Bucket=target.bucket, ExpectedBucketOwner=target.account_id)
    except ClientError as exc:
        if error_code(exc) in {"NoSuchBucket", "404"}:
            raise BucketNotFound(
                f"The log bucket {target.bucket} does not exist.",
                "set LogBucketName to the bucket your organization trail writes to (CloudTrail console: "
                "Trails, the Control Tower trail, 'Trail log location').",
            ) from exc
        # Removal must not read a refusal as "gone, and our entry with it": only NoSuchBucket says that.
        if error_code(exc) in {"AccessDenied", "403"} and mode is not Mode.REMOVE:
            raise BucketNotFound(
                f"The log bucket {target.bucket} is not owned by this account ({target.account_id}), or this "
                "account may not read it.",
                "deploy this stack in the Log Archive account that owns the bucket.",
            ) from exc
        raise translate(exc, "s3:GetBucketLocation", target.bucket, NO_ALTERNATIVES) from exc
    # us-east-1 reports no constraint, and the oldest eu-west-1 buckets report the legacy "EU".
    constraint: str | None = location.get("LocationConstraint")
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def trail_for_bucket(trails: list[dict[str, Any]], bucket: str) -> dict[str, Any] | None:
    """The trail writing to the bucket, preferring the organization trail over account trails."""
    writing = sorted(
        (t for t in trails if t.get("S3BucketName") == bucket), key=lambda t: not t.get("IsOrganizationTrail", False)
    )
    return writing[0] if writing else None


def key_of_newest_log_object(
    s3: S3Client, target: Target, trail: dict[str, Any], organization_id: str, management_account_id: str
) -> str | None:
    """The key of the newest log file of today or yesterday: its ARN, "" for SSE-S3, None when none is found.

    AWS does not document whether a member account's copy of the organization trail carries KmsKeyId.
    HeadObject answers SSEKMSKeyId without needing kms:Decrypt (S3 API reference, "HeadObject"), and the
    file names follow "Finding your CloudTrail log files" (CloudTrail user guide)."""
    prefix = str(trail.get("S3KeyPrefix") or "")
    home = str(trail.get("HomeRegion") or target.region)
    today = datetime.now(UTC)
    for day in (today, today - timedelta(days=1)):
        folder = f"{prefix + '/' if prefix else ''}AWSLogs/{organization_id}/{management_account_id}/CloudTrail/{home}/"
        listed = s3.list_objects_v2(
            Bucket=target.bucket, Prefix=f"{folder}{day:%Y/%m/%d}/", ExpectedBucketOwner=target.account_id
        )
        objects = listed.get("Contents", [])
        if objects:
            newest = max(objects, key=lambda listed_object: listed_object["LastModified"])
            head = s3.head_object(Bucket=target.bucket, Key=newest["Key"], ExpectedBucketOwner=target.account_id)
            return str(head.get("SSEKMSKeyId", ""))
    return None


def discover(
    organizations: OrganizationsClient,
    cloudtrail: CloudTrailClient,
    s3: S3Client,
    target: Target,
    mode: Mode = Mode.APPLY,
) -> StepReport:
    management_account_id, organization_id = management_account(organizations)
    region = target.region
    # The region matters before writing (S3 notifies only a topic in its own region); a bucket
    # cannot move region, so a read-only check skips the call.
    bucket_missing = False
    if mode is not Mode.CHECK:
        try:
            region = bucket_region(s3, target, mode)
        except BucketNotFound:
            if mode is not Mode.REMOVE:
                raise
            # A deleted bucket took our entry with it, but not our key statement: the key is still found below.
            bucket_missing = True
    if region != target.region and mode is not Mode.REMOVE:
        raise BucketInWrongRegion(
            f"The log bucket {target.bucket} is in {region}, but this stack is in {target.region}; S3 can only "
            "notify a topic in the bucket's own region.",
            f"deploy the stack in {region} (sam deploy --region {region}); one already made in {target.region} "
            "is deleted first (sam delete).",
        )
    # Every run reads the trail: a trail that moved under the stack stops delivery while all of ours looks fine.
    trails = visible_trails(cloudtrail)
    trail = trail_now(trails, target)
    trail_key = str(trail.get("KmsKeyId", "")) if trail else ""
    if trail and trail_key and target.key_arn_parameter not in ("", trail_key) and mode is not Mode.REMOVE:
        # CloudTrail encrypts every log file with the trail's key (CloudTrail user guide, "Encrypting CloudTrail
        # log files with AWS KMS keys"): a grant on any other key lets Workbench decrypt nothing, and moving our
        # statement there would take it off the key that matters.
        raise KeyNotTheTrails(
            f"CloudTrailKeyArn is {target.key_arn_parameter}, but the organization trail {trail['TrailARN']} "
            f"encrypts its log files with {trail_key}.",
            f"leave CloudTrailKeyArn empty (each run reads the trail's key), or set it to {trail_key}.",
        )
    key_arn = target.key_arn_parameter or trail_key
    source = "parameter" if target.key_arn_parameter else ("trail" if trail_key else "unknown")
    if source == "unknown" and trail is not None and not bucket_missing:
        object_key = key_of_newest_log_object(s3, target, trail, organization_id, management_account_id)
        if object_key is not None:
            key_arn, source = object_key, "newest log object" if object_key else "none"
    where = "is gone, and our notification entry with it" if bucket_missing else f"is in {region}"
    notes = [f"Management account {management_account_id} ({organization_id}); {target.bucket} {where}."]
    if trail is None:
        notes.append(f"No trail visible from this account writes to {target.bucket}.")
    else:
        notes.append(f"Trail {trail['TrailARN']} writes to {trail.get('S3BucketName')}.")
    if source == "unknown":
        notes.append(
            "The trail names no KMS key and no log file of today or yesterday was found to read one from: "
            "set CloudTrailKeyArn to the trail's key (CloudTrail console: the trail, General details, AWS KMS key)."
        )
    elif not key_arn:
        notes.append("A log file says the logs are not KMS-encrypted (SSE-S3), so there is no key to grant.")
    else:
        notes.append(f"Log objects are encrypted with {key_arn} (from the {source}).")
    # Compared only with an organization trail: an account trail writing to the bucket is not the stack's.
    now = TrailRecord.of(trail, organization_id) if trail is not None and trail.get("IsOrganizationTrail") else None
    moved = moved_since(target.built_for, now, target.delivery_mode, target.notification_prefix)
    reason = target.delivery_reason
    if moved:
        reason = f"{reason} (chosen at deploy time, for a trail that has changed since: {'; '.join(moved.changes)})"
    notes.append(f"Delivery: {target.delivery_mode.value}.")
    data = {
        "ManagementAccountId": management_account_id,
        "OrganizationId": organization_id,
        "Bucket": target.bucket,
        "BucketRegion": region,
        "TrailArn": trail["TrailARN"] if trail else "",
        "CloudTrailKeyArn": key_arn,
        "KeySource": source,
        "DeliveryMode": target.delivery_mode.value,
        "DeliveryReason": reason,
        "LogRoot": now.log_root if now else "",
        "TrailChanges": moved.changes if moved else [],
    }
    if bucket_missing:
        data["BucketMissing"] = True
    if moved and mode is not Mode.REMOVE:
        return StepReport(STEP, Status.ACTION_REQUIRED, " ".join([*notes, moved.detail]), data)
    return StepReport(STEP, Status.OK, " ".join(notes), data)


def trail_now(trails: list[dict[str, Any]], target: Target) -> dict[str, Any] | None:
    """The trail the stack was built for, as it is today; else the one writing to the bucket, or the only
    organization trail (the trail may have been replaced)."""
    if target.built_for.trail_arn:
        same = next((t for t in trails if t.get("TrailARN") == target.built_for.trail_arn), None)
        if same is not None:
            return same
    organization = organization_trails(trails)
    writing = trail_for_bucket(organization, target.bucket)
    if writing is not None:
        return writing
    if len(organization) == 1:
        return organization[0]
    # No organization trail to go by: an account trail writing to the bucket still names its key.
    return trail_for_bucket(trails, target.bucket)
