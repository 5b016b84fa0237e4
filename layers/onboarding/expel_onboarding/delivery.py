"""How log-object events reach Workbench's queue: one path per Control Tower landing-zone generation.

Up to landing zone 3.x our entry goes on the log bucket's notification configuration
(bucket-notification). Landing zone 4.0's mandatory control CT.S3.PV.8 denies that write to every
role but AWSControlTowerExecution, and gives CloudTrail its own SNS topic in the Log Archive account
instead; there we subscribe a relay to the trail's topic (trail-topic), which turns CloudTrail's
per-file messages into the same S3 events. Sources: Control Tower control reference, "Mandatory
controls" (CT.S3.PV.8, CT.SNS.PV.1), and the CloudTrail user guide, "Configuring Amazon SNS
notifications for CloudTrail".
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


def choose(requested: DeliveryMode, trail_arn: str, topic_arn: str, account_id: str) -> Choice:
    """The delivery mode for what discovery saw: the trail's SNS topic, and whose it is.

    auto picks trail-topic only for a topic in this account: that is where landing zone 4.0 puts
    CloudTrail's own topic. Before 4.0 the trail's topic is AWS Config's shared one in the Audit
    account, whose messages are not only CloudTrail's, so the bucket notification stays.
    """
    trail = trail_arn or "(no trail visible)"
    if requested is DeliveryMode.BUCKET_NOTIFICATION:
        return Choice(requested, "DeliveryMode=bucket-notification was set: our entry goes on the log bucket.")
    if requested is DeliveryMode.TRAIL_TOPIC:
        if not topic_arn:
            raise DeliveryModeUnavailable(
                f"DeliveryMode is trail-topic, but the organization trail {trail} publishes to no SNS topic.",
                "set DeliveryMode=auto (or bucket-notification); trail-topic needs the trail's own topic, which "
                "Control Tower landing zone 4.0 creates (aws-controltower-CentralizedLoggingNotifications).",
            )
        return Choice(requested, f"DeliveryMode=trail-topic was set: the relay subscribes to {topic_arn}.")
    if topic_arn and account_of(topic_arn) == account_id:
        return Choice(
            DeliveryMode.TRAIL_TOPIC,
            f"auto: the trail publishes to {topic_arn} in this account (Control Tower landing zone 4.0, whose "
            "CT.S3.PV.8 denies bucket notification writes), so the relay subscribes to it.",
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
