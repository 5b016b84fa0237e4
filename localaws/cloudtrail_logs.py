"""CloudTrail's log files as an organization trail writes them, for the local landing zone's deliveries."""

from __future__ import annotations

import gzip
import json
import string
import uuid
from datetime import UTC, datetime

from localaws.accounts import MANAGEMENT, REGION

_UNIQUE = string.ascii_letters + string.digits


def cloudtrail_log_key(organization_id: str, when: datetime | None = None) -> str:
    """Where an organization trail writes a log file of the management account's events (CloudTrail
    user guide, "Finding your CloudTrail log files": AWSLogs/<org id>/<account>/CloudTrail/<region>/
    YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 characters>.json.gz)."""
    when = when or datetime.now(UTC)
    unique = "".join(_UNIQUE[byte % len(_UNIQUE)] for byte in uuid.uuid4().bytes)
    return (
        f"AWSLogs/{organization_id}/{MANAGEMENT}/CloudTrail/{REGION}/{when:%Y/%m/%d}/"
        f"{MANAGEMENT}_CloudTrail_{REGION}_{when:%Y%m%dT%H%MZ}_{unique}.json.gz"
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
