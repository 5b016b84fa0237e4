"""What the local landing zone's organization trail and AWS Config deliver: the objects they write, in
Control Tower's key layout (localaws.cloudtrail_logs), and the messages they publish about them."""

from __future__ import annotations

import json
from typing import Any

from expel_onboarding.delivery import account_of
from localaws import clients
from localaws.accounts import AUDIT, LOG_ARCHIVE, as_account
from localaws.cloudtrail_logs import cloudtrail_log_key, config_file, config_key, digest_file, digest_key, log_file
from localaws.landing_zone import LandingZone


def organization_trail(zone: LandingZone) -> dict[str, Any]:
    """The trail as it is now (a test may have moved its bucket, prefix or topic)."""
    return next(
        dict(t)
        for t in clients.cloudtrail().describe_trails(includeShadowTrails=True)["trailList"]
        if t["TrailARN"] == zone.trail_arn
    )


def deliver_log_file(zone: LandingZone, key: str | None = None) -> str:
    """What CloudTrail does with each log file: write it, gzipped, to the trail's bucket under the trail's
    key prefix, then, if the trail has a topic, publish {"s3Bucket": ..., "s3ObjectKey": [...]} to it
    (CloudTrail user guide, "Configuring Amazon SNS notifications for CloudTrail"), as the topic's
    account. Returns the key.

    The write is an object-level PutObject, which CT.S3.PV.8 allows."""
    trail = organization_trail(zone)
    key = key or cloudtrail_log_key(str(trail.get("S3KeyPrefix", "")), zone.organization_id)
    bucket = _write(trail, zone, key, log_file())
    topic_arn = str(trail.get("SnsTopicARN", ""))
    if topic_arn:
        message = json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]}, separators=(",", ":"))
        with as_account(account_of(topic_arn)):
            clients.sns().publish(TopicArn=topic_arn, Message=message)
    return key


def deliver_digest_file(zone: LandingZone, log_keys: list[str] | None = None) -> str:
    """What CloudTrail does every hour: write a digest beside the log files. It announces log files on
    its topic, not digests. Returns the key."""
    trail = organization_trail(zone)
    key = digest_key(str(trail.get("S3KeyPrefix", "")), zone.organization_id)
    _write(trail, zone, key, digest_file(log_keys or []))
    return key


def deliver_config_object(zone: LandingZone) -> tuple[str, str]:
    """What AWS Config does with a configuration history file: up to 3.x it writes into the trail's bucket
    under the same prefix and announces the file on AllConfigNotifications, which the trail shares
    (AWS Config developer guide, "Notifications that AWS Config sends to an Amazon SNS topic":
    {"s3ObjectKey": "<key>", "s3Bucket": ..., "messageType": "ConfigurationHistoryDeliveryCompleted"});
    from 4.0 it writes into a bucket of its own. Returns (bucket, key)."""
    key = config_key(zone.key_prefix)
    owner = LOG_ARCHIVE if zone.config_bucket == zone.bucket else AUDIT
    with as_account(owner):
        clients.s3().put_object(Bucket=zone.config_bucket, Key=key, Body=config_file(), ContentEncoding="gzip")
    if zone.config_topic_arn:
        message = {
            "s3ObjectKey": key,
            "s3Bucket": zone.config_bucket,
            "notificationCreationTime": "2026-01-01T00:00:00.000Z",
            "messageType": "ConfigurationHistoryDeliveryCompleted",
            "recordVersion": "1.1",
        }
        with as_account(account_of(zone.config_topic_arn)):
            clients.sns().publish(TopicArn=zone.config_topic_arn, Message=json.dumps(message))
    return zone.config_bucket, key


def _write(trail: dict[str, Any], zone: LandingZone, key: str, body: bytes) -> str:
    bucket = str(trail["S3BucketName"])
    clients.s3().put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="application/json",
        ContentEncoding="gzip",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=str(trail.get("KmsKeyId") or zone.cloudtrail_key_arn),
    )
    return bucket
