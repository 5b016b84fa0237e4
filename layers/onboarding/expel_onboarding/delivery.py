"""How log-object events reach Workbench's queue: one path per Control Tower landing-zone generation.

Up to landing zone 3.x our entry goes on the log bucket's notification configuration
(bucket-notification). Landing zone 4.0's mandatory control CT.S3.PV.8 denies that write to every
role but AWSControlTowerExecution (Control Tower control reference, "Mandatory controls", "Changes in
Landing Zone 4.0 controls"), and 4.0 gives CloudTrail a topic of its own,
aws-controltower-CentralizedLoggingNotifications, whose CT.SNS.PV.1 leaves Subscribe allowed. There
we subscribe a relay to the trail's topic (trail-topic), which turns CloudTrail's per-file messages
("Configuring Amazon SNS notifications for CloudTrail") into the same S3 events.

AWS does not say which account holds that topic, nor that DescribeTrails shows it to the Log
Archive account: we read it from the trail's SnsTopicARN and never assume either. auto picks
trail-topic only when the trail names a topic in this account and region; everything else keeps the
bucket notification, whose denial then names DeliveryMode=trail-topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from expel_onboarding.errors import DeliveryModeUnavailable


class DeliveryMode(StrEnum):
    AUTO = "auto"
    BUCKET_NOTIFICATION = "bucket-notification"
    TRAIL_TOPIC = "trail-topic"


@dataclass(frozen=True)
class Choice:
    mode: DeliveryMode
    reason: str


def account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def choose(requested: DeliveryMode, trail_arn: str, topic_arn: str, account_id: str, region: str) -> Choice:
    """The delivery mode for what discovery saw: the trail's SNS topic, and whose it is.

    auto picks trail-topic only for a topic in this account: that is where landing zone 4.0 puts
    CloudTrail's own topic. Before 4.0 the trail's topic is AWS Config's shared one in the Audit
    account, whose messages are not only CloudTrail's, so the bucket notification stays.
    """
    trail = trail_arn or "(no trail visible)"
    # SNS redrives a subscription only to a dead-letter queue in the topic's own region (SNS developer
    # guide, "Amazon SNS dead-letter queues"), and our relay queues are in the stack's.
    elsewhere = bool(topic_arn) and region_of(topic_arn) != region
    if requested is DeliveryMode.BUCKET_NOTIFICATION:
        return Choice(requested, "DeliveryMode=bucket-notification was set: our entry goes on the log bucket.")
    if requested is DeliveryMode.TRAIL_TOPIC:
        if not topic_arn:
            raise DeliveryModeUnavailable(
                f"DeliveryMode is trail-topic, but the organization trail {trail} publishes to no SNS topic.",
                "set DeliveryMode=auto (or bucket-notification); trail-topic needs the trail's own topic, which "
                "Control Tower landing zone 4.0 creates (aws-controltower-CentralizedLoggingNotifications).",
            )
        if elsewhere:
            raise DeliveryModeUnavailable(
                f"DeliveryMode is trail-topic, but the trail's topic {topic_arn} is in {region_of(topic_arn)}, "
                f"not {region}.",
                f"deploy this stack in {region_of(topic_arn)}, the landing zone's home region.",
            )
        return Choice(requested, f"DeliveryMode=trail-topic was set: the relay subscribes to {topic_arn}.")
    if topic_arn and account_of(topic_arn) == account_id and not elsewhere:
        return Choice(
            DeliveryMode.TRAIL_TOPIC,
            f"auto: the trail publishes to {topic_arn} in this account (Control Tower landing zone 4.0, whose "
            "CT.S3.PV.8 denies bucket notification writes), so the relay subscribes to it.",
        )
    if topic_arn and elsewhere:
        return Choice(
            DeliveryMode.BUCKET_NOTIFICATION,
            f"auto: the trail's topic {topic_arn} is in {region_of(topic_arn)}, not this stack's region {region}, "
            "so our entry goes on the log bucket.",
        )
    if topic_arn:
        return Choice(
            DeliveryMode.BUCKET_NOTIFICATION,
            f"auto: the trail's topic {topic_arn} is in account {account_of(topic_arn)}, not this one (a landing "
            "zone before 4.0), so our entry goes on the log bucket.",
        )
    return Choice(
        DeliveryMode.BUCKET_NOTIFICATION,
        f"auto: the trail {trail} publishes to no SNS topic, so our entry goes on the log bucket.",
    )


def stay_on_bucket_entry(requested: DeliveryMode, bucket: str, topic_arn: str, prefix: str, asked: str) -> Choice:
    """This stack's entry is on the bucket and notifies the trail's log files: the relay beside it would
    deliver each twice. On a zone upgraded to landing zone 4.0, CT.S3.PV.8 also forbids changing or removing
    that entry (Control Tower control reference, "Mandatory controls"), so it stays as it is, filter included."""
    where = f"under {prefix}" if prefix else "for the whole bucket"
    if requested is DeliveryMode.TRAIL_TOPIC:
        raise DeliveryModeUnavailable(
            f"DeliveryMode is trail-topic, but this stack's entry on {bucket} still notifies log files {where}; "
            f"the relay on {topic_arn} beside it would deliver every file twice.",
            "to move to trail-topic, the entry must go first: delete this stack, which removes the entry where "
            "no control forbids it (on a zone upgraded to 4.0 only a principal CT.S3.PV.8 exempts, "
            "AWSControlTowerExecution, may), then deploy again; log files written in between are not delivered. "
            "Otherwise set DeliveryMode=auto, which stays on the entry: a relay beside it would deliver every "
            "file twice.",
        )
    kept = f" NotificationPrefix={asked} does not apply: the entry stays as it is." if asked and asked != prefix else ""
    return Choice(
        DeliveryMode.BUCKET_NOTIFICATION,
        f"{requested.value}: this stack's entry on {bucket} notifies log files {where}, and the relay on the trail's "
        f"topic {topic_arn} beside it would deliver every file twice, so delivery stays on the entry, as it is "
        f"(on a landing zone upgraded to 4.0, CT.S3.PV.8 lets no role of ours change or remove it).{kept}",
    )
