"""Replay a gap: S3 events for log files already in the bucket, for one account, region and time window.

When delivery stopped for a while (our entry removed, a trail that moved, a failing relay), the log files
of that time are in the bucket and Workbench never heard of them. This lists them (the bucket's own day
folders, so only LIST requests) and publishes one S3 event per file on our topic, built by the relay's own
event builder, so Workbench sees what S3 sends. It publishes at half the region's default SNS publish
quota at most, leaving the other half to live delivery. A window that overlaps files already delivered
makes Workbench receive those events twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from expel_onboarding import clients, relay
from expel_onboarding.errors import OnboardingError, error_code
from expel_onboarding_cli import prices

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient


@dataclass(frozen=True)
class Window:
    account: str
    region: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class LogFile:
    key: str
    size: int
    etag: str
    landed: datetime


@dataclass(frozen=True)
class Replayed:
    files: int
    published: int
    list_requests: int
    seconds: float


def days(window: Window) -> Iterator[datetime]:
    day = window.start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < window.end:
        yield day
        day += timedelta(days=1)


def log_files(s3: S3Client, bucket: str, log_root: str, window: Window, owner: str) -> tuple[list[LogFile], int]:
    """The window's log files of the account and region, by when they landed; and the LIST requests made."""
    found: list[LogFile] = []
    requests = 0
    for day in days(window):
        prefix = f"{log_root}{window.account}/CloudTrail/{window.region}/{day:%Y/%m/%d}/"
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, ExpectedBucketOwner=owner
        ):
            requests += 1
            for item in page.get("Contents", []):
                if relay.is_log_object(item["Key"]) and window.start <= item["LastModified"] < window.end:
                    found.append(LogFile(item["Key"], item["Size"], item["ETag"].strip('"'), item["LastModified"]))
    return sorted(found, key=lambda file: file.landed), requests


def messages(target: relay.Target, files: list[LogFile]) -> list[str]:
    """One S3 event per file, as the relay builds them (the time is when the file landed)."""
    built = []
    for file in files:
        landed_ms = int(file.landed.timestamp() * 1000)
        head = relay.ObjectHead(file.size, file.etag, None, landed_ms)
        built.append(relay.message(relay.s3_record(target, file.key, head, relay.event_time(landed_ms))))
    return built


def rate(region: str) -> float:
    """Messages per second: half the region's default publish quota, which live delivery shares."""
    return prices.sns_publish_quota(region) / 2


def publish(
    sns: SNSClient,
    topic_arn: str,
    texts: list[str],
    per_second: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Publish in batches of 10 at most, never faster than per_second; how many were published."""
    started, sent = clock(), 0
    for batch in relay.batches(texts):
        relay.publish(sns, topic_arn, batch)
        sent += len(batch)
        ahead = sent / per_second - (clock() - started)
        if ahead > 0:
            sleep(ahead)
    return sent


def publisher(session: boto3.Session, role_arn: str, endpoint_url: str | None = None) -> boto3.Session:
    """The session replay publishes with: the stack's replay role, the only principal besides the relay that our
    topic's policy lets publish (template.yaml, ReplayRole). Your IAM policies decide who may assume it, and
    CloudTrail records that you did. A stack deployed before that role existed has no such policy: then replay
    publishes as you."""
    if not role_arn:
        return session
    sts = clients.watched(session.client("sts", endpoint_url=endpoint_url, config=clients.RETRIES))
    try:
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="expel-onboarding-replay")["Credentials"]
    except ClientError as exc:
        if error_code(exc) != "AccessDenied":
            raise
        raise OnboardingError(
            f"You may not assume the stack's replay role {role_arn} ({exc}): only the relay and that role may "
            "publish to the Expel topic.",
            f"ask your administrator to allow you sts:AssumeRole on {role_arn}, then re-run.",
        ) from exc
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=session.region_name,
    )
