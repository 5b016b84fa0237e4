"""make bench's freshness figures: the per-account freshness report on an emulated organization of
1,000 accounts x 17 regions, each with today's log file, one account (17 folders) dark for four hours.

The objects are put straight into moto's S3 (no request per object: building the bucket is not what is
measured); the report then lists them through boto3 as it would against S3. Its LIST requests are counted
with botocore's before-call hook, priced at S3's list price, and timed (moto's time, not S3's).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from moto import mock_aws
from moto.s3.models import s3_backends

from expel_onboarding_cli import freshness, prices
from localaws import clients, service_gaps
from localaws.cloudtrail_logs import cloudtrail_log_key

ACCOUNTS, REGIONS = 1_000, 17
ORG = "o-a1b2c3d4e5"
ROOT = f"{ORG}/AWSLogs/{ORG}/"
BUCKET = "aws-controltower-logs-123456789012-us-east-1"
REGION_NAMES = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "sa-east-1",
]  # fmt: skip


def populate(now: datetime) -> None:
    backend = s3_backends["123456789012"]["aws"]
    for index in range(ACCOUNTS):
        account = f"{100000000000 + index:012d}"
        for region in REGION_NAMES[:REGIONS]:
            when = now - timedelta(hours=4) if index == 0 else now - timedelta(minutes=3)
            key = cloudtrail_log_key(ORG, ORG, when, account, region)
            stored = backend.put_object(BUCKET, key, b"{}")
            stored.last_modified = when.replace(tzinfo=None)


def main() -> None:
    print(f"\nPer-account freshness: {ACCOUNTS:,} accounts x {REGIONS} regions (moto in this process)")
    with service_gaps.filled(), mock_aws():
        clients.s3().create_bucket(Bucket=BUCKET)
        now = datetime.now(UTC)
        populate(now)
        started = time.perf_counter()
        found = freshness.report(clients.s3(), BUCKET, ROOT, now, "123456789012", freshness.DEFAULT_THRESHOLD)
        seconds = time.perf_counter() - started
    hourly = found.dollars * 24 * 30
    print(f"  folders                    {len(found.folders):,} ({len(found.stale)} dark for 4 hours, all found)")
    print(f"  LIST requests              {found.list_requests:,}")
    print(f"  seconds                    {seconds:.1f} (moto's, not S3's)")
    print(f"  cost per run               ${found.dollars:.4f} (${prices.S3_LIST_PER_1000} per 1,000 LIST, us-east-1)")
    print(f"  cost run hourly            ${hourly:.2f} a month")


if __name__ == "__main__":
    main()
