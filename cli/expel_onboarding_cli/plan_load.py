"""What a plan says of the feed's load before the deploy: the organization's size, the SNS publishes a second
it will make in the home region against that region's quota, and its monthly cost (expel_onboarding_cli.
feed_load's formulas, the same `make bench` states).

The organization's size: ListAccounts answers only in the management account or a delegated administrator
(AWS Organizations API reference, ListAccounts: "This operation can be called only from the organization's
management account or by a member account that is a delegated administrator"), so it is asked with the
management account's profile when the plan has one (--key-profile), else with the person's own; when
neither may ask, the plan says to pass --accounts. The regions: the Log Archive account's enabled regions
(EC2 DescribeRegions), which an organization trail logs in every account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import AwsThrottled
from expel_onboarding.reports import Status
from expel_onboarding_cli import feed_load

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3 import S3Client

STEP = "FeedLoad"
# Every account has these regions enabled by default (AWS Account Management reference guide, "Enable or
# disable AWS Regions in your account"): the count used when the enabled regions cannot be read.
DEFAULT_REGIONS = 17


@dataclass(frozen=True)
class Sized:
    """The plan's load: its figures and where each input came from."""

    load: feed_load.Load | None
    sources: dict[str, str]
    status: Status
    detail: str

    def to_dict(self) -> dict[str, Any]:
        if self.load is None:
            return {"Sources": self.sources}
        load = self.load
        return {
            "Accounts": load.accounts,
            "Regions": load.regions,
            "LogFilesPerSecond": round(load.files_per_second, 1),
            "PeakLogFilesPerSecond": round(load.peak_files_per_second, 1),
            "PeakSnsPublishesPerSecond": round(load.peak_publishes_per_second, 1),
            "SnsPublishQuota": load.quota,
            "MonthlyCostUsd": {line: round(dollars, 2) for line, dollars in load.monthly_cost().items()},
            "Sources": self.sources,
        }


def size(
    own: OrganizationsClient,
    management: OrganizationsClient | None,
    ec2: Any,
    s3: S3Client,
    *,
    bucket: str,
    region: str,
    mode: DeliveryMode,
    accounts: int | None,
    quota: int | None,
) -> Sized:
    sources: dict[str, str] = {}
    if accounts is None:
        accounts, sources["Accounts"] = _count_accounts(management) if management else (None, "")
        if accounts is None:
            accounts, sources["Accounts"] = _count_accounts(own)
    else:
        sources["Accounts"] = "given (--accounts)"
    if accounts is None:
        detail = (
            "The organization's size is unknown: ListAccounts answers only in the management account. Pass "
            "--accounts <the number aws organizations list-accounts --query 'length(Accounts)' gives there>, or "
            "--key-profile <a management account profile>, to see the feed's load and monthly cost."
        )
        return Sized(None, sources, Status.OK, detail)
    regions, sources["Regions"] = _count_regions(ec2)
    bucket_key, sources["BucketKey"] = _bucket_key(s3, bucket)
    load = feed_load.Load(accounts, regions, region, mode, bucket_key=bucket_key, quota_override=quota)
    sources["Quota"] = (
        "given (--sns-publish-quota)" if quota else f"{region}'s default (Amazon SNS endpoints and quotas)"
    )
    warnings = load.warnings()
    said = (
        f"{accounts:,} accounts x {regions} regions: about {load.files_per_second:,.0f} log files a second, "
        f"{load.peak_files_per_second:,.0f} in a {feed_load.BURST}x burst, when SNS in {region} carries "
        f"{load.peak_publishes_per_second:,.0f} publishes a second ({load.quota_share:.0%} of {load.quota:,})."
    )
    if warnings:
        return Sized(load, sources, Status.ACTION_REQUIRED, " ".join([said, *warnings]))
    return Sized(load, sources, Status.OK, said)


def _count_accounts(organizations: OrganizationsClient) -> tuple[int | None, str]:
    try:
        pages = organizations.get_paginator("list_accounts").paginate()
        return sum(len(page["Accounts"]) for page in pages), "the organization (ListAccounts)"
    except (ClientError, AwsThrottled):
        return None, "unknown (ListAccounts refused)"


def _count_regions(ec2: Any) -> tuple[int, str]:
    try:
        regions = ec2.describe_regions()["Regions"]
    except (ClientError, AwsThrottled):
        return DEFAULT_REGIONS, f"{DEFAULT_REGIONS}, the regions enabled by default (DescribeRegions refused)"
    # DescribeRegions answers the enabled regions; an opt-in region not opted in is not one (EC2 API reference,
    # DescribeRegions, OptInStatus), should an endpoint list it.
    enabled = [region for region in regions if region.get("OptInStatus") != "not-opted-in"]
    return len(enabled), "the Log Archive account's enabled regions (DescribeRegions)"


def _bucket_key(s3: S3Client, bucket: str) -> tuple[bool, str]:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except (ClientError, AwsThrottled):
        return False, "unknown: priced without an S3 Bucket Key"
    enabled = any(rule.get("BucketKeyEnabled") for rule in rules)
    return enabled, "the log bucket's encryption (GetBucketEncryption)"


def cost_lines(load: feed_load.Load) -> list[str]:
    """The monthly cost, a line each, as the plan prints it."""
    return [f"{line:<58} ${dollars:>10,.2f}" for line, dollars in load.monthly_cost().items()]
