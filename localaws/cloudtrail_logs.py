"""What Control Tower's organization trail and AWS Config write into the local landing zone's buckets.

The layout is Control Tower's: the organization trail's S3KeyPrefix is the organization id, so every
key starts with it (AWS CloudTrail user guide, "Finding your CloudTrail log files":
bucket/[prefix]/AWSLogs/O-ID/AccountID/CloudTrail/Region/YYYY/MM/DD/file for an organization trail;
"CloudTrail digest file structure" for the digests beside them). Up to landing zone 3.x AWS Config
writes into the same bucket under the same prefix, per account (AWS Config developer guide, "Managing
the Delivery Channel": prefix/AWSLogs/AccountID/Config/Region/YYYY/M/D/...).
"""

from __future__ import annotations

import gzip
import json
import string
import uuid
from datetime import UTC, datetime

from localaws.accounts import MANAGEMENT, REGION

_UNIQUE = string.ascii_letters + string.digits
TRAIL_NAME = "aws-controltower-BaselineCloudTrail"


def _unique() -> str:
    return "".join(_UNIQUE[byte % len(_UNIQUE)] for byte in uuid.uuid4().bytes)


def cloudtrail_log_key(
    key_prefix: str,
    organization_id: str,
    when: datetime | None = None,
    account: str = MANAGEMENT,
    region: str = REGION,
) -> str:
    """Where an organization trail writes a log file of one account and region: <prefix>/AWSLogs/<org id>/
    <account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 characters>.json.gz."""
    when = when or datetime.now(UTC)
    return (
        f"{key_prefix}/AWSLogs/{organization_id}/{account}/CloudTrail/{region}/{when:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{_unique()}.json.gz"
    )


def digest_key(key_prefix: str, organization_id: str, when: datetime | None = None, account: str = MANAGEMENT) -> str:
    """Where the trail writes an hour's digest ("CloudTrail digest file structure"): beside the log files,
    under CloudTrail-Digest/, named <account>_CloudTrail-Digest_<region>_<trail>_<home region>_<end time>.json.gz.
    CloudTrail writes one every hour, even an hour without log files."""
    when = when or datetime.now(UTC)
    return (
        f"{key_prefix}/AWSLogs/{organization_id}/{account}/CloudTrail-Digest/{REGION}/{when:%Y/%m/%d}/"
        f"{account}_CloudTrail-Digest_{REGION}_{TRAIL_NAME}_{REGION}_{when:%Y%m%dT%H%M%SZ}.json.gz"
    )


def config_key(key_prefix: str, when: datetime | None = None, account: str = MANAGEMENT) -> str:
    """Where AWS Config writes a configuration history file: per account, not under the organization id,
    with a month and day that are not zero-padded."""
    when = when or datetime.now(UTC)
    stamp = f"{when:%Y%m%dT%H%M%SZ}"
    return (
        f"{key_prefix}/AWSLogs/{account}/Config/{REGION}/{when.year}/{when.month}/{when.day}/ConfigHistory/"
        f"{account}_Config_{REGION}_ConfigHistory_AWS::S3::Bucket_{stamp}_{stamp}_1.json.gz"
    )


def log_file() -> bytes:
    """One gzipped log file holding one management event (CloudTrail user guide, "CloudTrail record contents")."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{MANAGEMENT}:assumed-role/Admin/alice",
            "accountId": MANAGEMENT,
        },
        "eventTime": now,
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.17.0",
        "requestParameters": {"userName": "build-bot"},
        "responseElements": {"user": {"userName": "build-bot", "arn": f"arn:aws:iam::{MANAGEMENT}:user/build-bot"}},
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": MANAGEMENT,
        "eventCategory": "Management",
    }
    return gzip.compress(json.dumps({"Records": [record]}).encode())


def digest_file(log_keys: list[str]) -> bytes:
    """A digest naming the hour's log files; an hour without any has an empty logFiles list."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = {
        "awsAccountId": MANAGEMENT,
        "digestEndTime": now,
        "digestS3Object": "",
        "logFiles": [{"s3Object": key} for key in log_keys],
    }
    return gzip.compress(json.dumps(document).encode())


def config_file() -> bytes:
    return gzip.compress(json.dumps({"fileVersion": "1.0", "configurationItems": []}).encode())
