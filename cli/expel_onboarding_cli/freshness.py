"""Which accounts went dark: every account and region of the organization whose newest log file is old.

A whole-feed alarm cannot see one account leave the trail (its calls stop, or it left the organization):
the feed goes on with everyone else's files. The bucket's own folders can: the trail writes under
<log root><account>/CloudTrail/<region>/YYYY/MM/DD/ (CloudTrail user guide, "Finding your CloudTrail log
files"), so listing the folders finds every account and region that ever wrote, and one listing of a day's
folder finds its newest file. LIST requests only: 1 + accounts + accounts x regions (x 2 when a region
wrote nothing today), each $0.005 per 1,000 at S3's list price.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from expel_onboarding_cli import health, prices

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_THRESHOLD = timedelta(hours=3)
WORKERS = 16


@dataclass(frozen=True)
class Folder:
    account: str
    region: str
    newest: datetime | None
    newest_key: str = ""

    def age(self, now: datetime) -> timedelta | None:
        return now - self.newest if self.newest else None


@dataclass(frozen=True)
class Report:
    folders: list[Folder]
    stale: list[Folder]
    list_requests: int

    @property
    def dollars(self) -> float:
        return self.list_requests / 1000 * prices.S3_LIST_PER_1000


def subfolders(s3: S3Client, bucket: str, prefix: str, owner: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/", ExpectedBucketOwner=owner
    ):
        for common in page.get("CommonPrefixes", []):
            yield common["Prefix"][len(prefix) :].rstrip("/")


def report(s3: S3Client, bucket: str, log_root: str, now: datetime, owner: str, threshold: timedelta) -> Report:
    """Every account and region folder with its newest log file, the stale ones, and the LIST requests made."""
    made: list[str] = []

    def count(**_: object) -> None:
        made.append("ListObjectsV2")

    def account_folders(account: str) -> list[Folder]:
        found = []
        for region in subfolders(s3, bucket, f"{log_root}{account}/CloudTrail/", owner):
            folder = f"{log_root}{account}/CloudTrail/{region}/"
            # Day folders back to the threshold and one more: a file newer than the threshold is always seen.
            newest = health.newest_log_file(s3, bucket, folder, now, owner, days=threshold.days + 2)
            found.append(Folder(account, region, newest[1] if newest else None, newest[0] if newest else ""))
        return found

    s3.meta.events.register("before-call.s3.ListObjectsV2", count)
    try:
        # Thousands of small LIST requests: side by side (a boto3 client is thread-safe), about 20 ms each.
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            per_account = pool.map(account_folders, list(subfolders(s3, bucket, log_root, owner)))
            folders = sorted((f for found in per_account for f in found), key=lambda f: (f.account, f.region))
    finally:
        s3.meta.events.unregister("before-call.s3.ListObjectsV2", count)
    stale = [f for f in folders if f.newest is None or now - f.newest > threshold]
    return Report(folders, stale, len(made))
