"""The feed's load and monthly cost (expel_onboarding_cli.feed_load), and what a plan says of it: the formulas,
the quota warning, and a plan of an emulated organization of 5,000 accounts against a publish quota of 300 a
second (the default of most regions)."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from expel_onboarding.delivery import DeliveryMode
from expel_onboarding_cli import feed_load, plan, plan_load, prices
from localaws import clients, landing_zone
from localaws.accounts import MANAGEMENT, as_account
from tests.support.stubbed import stubbable_client


def test_a_thousand_accounts_in_17_regions_write_about_57_files_a_second() -> None:
    load = feed_load.Load(1_000, 17, "us-east-1", DeliveryMode.TRAIL_TOPIC)
    assert load.files_per_second == pytest.approx(56.67, abs=0.01)
    assert load.peak_files_per_second == pytest.approx(283.3, abs=0.1)
    # On 4.0 CloudTrail's publish and the relay's both count against the Log Archive account's quota.
    assert load.peak_publishes_per_second == pytest.approx(566.7, abs=0.1)
    assert feed_load.Load(1_000, 17, "us-east-1", DeliveryMode.BUCKET_NOTIFICATION).peak_publishes_per_second == (
        pytest.approx(283.3, abs=0.1)
    )


@pytest.mark.parametrize(("region", "warned"), [("us-east-1", False), ("eu-central-1", False), ("ap-east-1", True)])
def test_the_quota_warning_names_the_quota_to_raise_above_half_of_it(region: str, warned: bool) -> None:
    load = feed_load.Load(1_000, 17, region, DeliveryMode.TRAIL_TOPIC)
    assert load.quota == prices.sns_publish_quota(region)
    said = " ".join(load.warnings())
    assert (prices.SNS_PUBLISH_QUOTA_NAME in said) is warned
    if warned:
        assert f"for the Log Archive account in {region}" in said


def test_the_monthly_cost_has_a_line_for_each_service_and_head_requests_on_their_own() -> None:
    relayed = feed_load.Load(5_000, 17, "us-east-1", DeliveryMode.TRAIL_TOPIC).monthly_cost()
    notified = feed_load.Load(5_000, 17, "us-east-1", DeliveryMode.BUCKET_NOTIFICATION).monthly_cost()
    assert "S3 HEAD (the relay checks each file)" in relayed
    assert "S3 HEAD (the relay checks each file)" not in notified
    assert relayed["total"] == pytest.approx(sum(v for k, v in relayed.items() if k != "total"))
    files = 5_000 * 17 / 300 * feed_load.MONTH_SECONDS
    assert relayed["S3 HEAD (the relay checks each file)"] == pytest.approx(files / 1000 * prices.S3_GET_PER_1000)
    with_bucket_key = feed_load.Load(5_000, 17, "us-east-1", DeliveryMode.TRAIL_TOPIC, bucket_key=True)
    kms = "KMS (Workbench decrypts each file; topic and queue keys)"
    assert with_bucket_key.monthly_cost()[kms] < relayed[kms] / 50


def test_without_the_management_account_the_plan_asks_for_the_account_count() -> None:
    organizations, ec2, s3 = stubbable_client("organizations"), stubbable_client("ec2"), stubbable_client("s3")
    with Stubber(organizations) as stub:
        # ListAccounts from a member account that is not a delegated administrator: refused.
        stub.add_client_error("list_accounts", "AccessDeniedException", "not the management account", 400)
        sized = plan_load.size(
            organizations,
            None,
            ec2,
            s3,
            bucket="b",
            region="us-east-1",
            mode=DeliveryMode.TRAIL_TOPIC,
            accounts=None,
            quota=None,
        )
    assert sized.load is None
    assert "Pass --accounts" in sized.detail


def readers() -> plan.Readers:
    """The plan's readers as the Log Archive account, with the management account's Organizations (a plan given
    --key-profile): only it may list the accounts."""
    session = boto3.Session(region_name="us-east-1")
    # An administrator's own access key in the management account: moto attributes a key to the account that
    # made it, so its client acts there, as a --key-profile of that account does.
    with as_account(MANAGEMENT):
        iam = clients.iam()
        iam.create_user(UserName="organization-administrator")
        key = iam.create_access_key(UserName="organization-administrator")["AccessKey"]
    management = boto3.client(
        "organizations",
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )

    def client(name: str) -> Any:
        return session.client(name)  # type: ignore[call-overload]

    return plan.Readers(
        sts=client("sts"),
        organizations=client("organizations"),
        cloudtrail=client("cloudtrail"),
        s3=client("s3"),
        kms=client("kms"),
        cloudformation=client("cloudformation"),
        lambda_=client("lambda_".rstrip("_")),
        region="us-east-1",
        ec2=client("ec2"),
        key_account_organizations=management,
    )


def test_a_plan_of_5000_accounts_in_a_region_of_300_publishes_a_second_warns_and_prices_the_feed() -> None:
    landing_zone.seed("4.0")
    reading = readers()
    assert reading.key_account_organizations is not None
    seeded = len(reading.key_account_organizations.list_accounts()["Accounts"])
    started = time.monotonic()
    landing_zone.grow(5_000 - seeded)
    assert time.monotonic() - started < 60
    made = plan.make(reading, {}, "expel-cloudtrail-onboarding", plan.Sizing(sns_publish_quota=300))
    load = next(change for change in made.changes if change.name == plan_load.STEP)
    assert made.load is not None
    assert made.load.load is not None
    assert made.load.load.accounts == 5_000
    assert made.load.sources["Accounts"] == "the organization (ListAccounts)"
    assert load.status.value == "ACTION_REQUIRED"
    assert 'Raise the Amazon SNS quota "Publish (API) requests per second"' in load.detail
    assert "of its quota of 300" in load.detail
    lines = plan_load.cost_lines(made.load.load)
    assert any(line.startswith("S3 HEAD (the relay checks each file)") for line in lines)
    assert lines[-1].startswith("total")
    assert made.to_dict()["Load"]["Accounts"] == 5_000
    # The same organization with its home region in ap-east-1 (Hong Kong), of SNS's lowest default quota: warned
    # without any override.
    in_hong_kong = plan_load.size(
        reading.organizations,
        reading.key_account_organizations,
        reading.ec2,
        reading.s3,
        bucket=made.discovered["Bucket"],
        region="ap-east-1",
        mode=DeliveryMode.TRAIL_TOPIC,
        accounts=None,
        quota=None,
    )
    assert in_hong_kong.status.value == "ACTION_REQUIRED"
    assert "of its default quota of 300" in in_hong_kong.detail
    assert "for the Log Archive account in ap-east-1" in in_hong_kong.detail
