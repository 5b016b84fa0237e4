"""Discovery against moto: the management account, the trail's key, and the bucket's region."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from expel_onboarding import clients, discovery
from expel_onboarding.discovery import Target
from expel_onboarding.errors import (
    AccessNotGranted,
    BucketInWrongRegion,
    BucketNotFound,
    KeyNotTheTrails,
    OrganizationNotFound,
)
from expel_onboarding.reports import Mode, Status
from localaws import clients as local_clients
from localaws.aws_calls import AwsCalls
from tests.support.stubbed import stubbable_client

MANAGEMENT = "111111111111"


@pytest.fixture
def log_archive(monkeypatch: pytest.MonkeyPatch) -> str:
    """An organization made by the management account; then act as its Log Archive member."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
    organizations = local_clients.organizations()
    organizations.create_organization(FeatureSet="ALL")
    status = organizations.create_account(Email="log-archive@example.com", AccountName="Log Archive")
    account = status["CreateAccountStatus"]["AccountId"]
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
    clients.reset()
    return account


def bucket_name(account: str, region: str = "us-east-1") -> str:
    return f"aws-controltower-logs-{account}-{region}"


def make_bucket(account: str, region: str = "us-east-1") -> str:
    name = bucket_name(account, region)
    s3 = boto3.client("s3", region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})  # type: ignore[typeddict-item]
    return name


def make_trail(bucket: str, key_arn: str = "") -> str:
    extra: dict[str, Any] = {"KmsKeyId": key_arn} if key_arn else {}
    trail = local_clients.cloudtrail().create_trail(
        Name="aws-controltower-BaselineCloudTrail", S3BucketName=bucket, IsMultiRegionTrail=True, **extra
    )
    return str(trail["TrailARN"])


def discover(account: str, bucket: str, key_parameter: str = "") -> Any:
    return discovery.discover(
        clients.organizations(), clients.cloudtrail(), clients.s3(), Target(bucket, account, "us-east-1", key_parameter)
    )


def test_finds_the_management_account_and_the_trails_key(log_archive: str, calls: AwsCalls) -> None:
    bucket = make_bucket(log_archive)
    key = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    trail = make_trail(bucket, key)
    calls.clear()
    report = discover(log_archive, bucket)
    assert report.status is Status.OK
    assert report.data["ManagementAccountId"] == MANAGEMENT
    assert report.data["CloudTrailKeyArn"] == key
    assert report.data["KeySource"] == "trail"
    assert report.data["TrailArn"] == trail
    assert calls.writes == []


def test_a_key_parameter_that_is_not_the_trails_key_is_refused_naming_the_trails(log_archive: str) -> None:
    bucket = make_bucket(log_archive)
    trails_key = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    make_trail(bucket, trails_key)
    chosen = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/99999999-12ab-34cd-56ef-1234567890ab"
    # A grant on another key decrypts nothing, and moving our statement there would leave the trail's key without it.
    with pytest.raises(KeyNotTheTrails) as refused:
        discover(log_archive, bucket, chosen)
    assert f"encrypts its log files with {trails_key}" in str(refused.value)
    assert f"set it to {trails_key}" in str(refused.value)
    # The trail's own key, given, is the trail's.
    assert discover(log_archive, bucket, trails_key).data["KeySource"] == "parameter"


def log_file(bucket: str, **encryption: str) -> str:
    """A log file of today's, where an organization trail writes the management account's logs."""
    organization = local_clients.organizations().describe_organization()["Organization"]["Id"]
    day = datetime.now(UTC)
    key = (
        f"AWSLogs/{organization}/{MANAGEMENT}/CloudTrail/us-east-1/{day:%Y/%m/%d}/"
        f"{MANAGEMENT}_CloudTrail_us-east-1_{day:%Y%m%dT%H%M}Z_abcdefghijklmnop.json.gz"
    )
    local_clients.s3().put_object(Bucket=bucket, Key=key, Body=b"{}", **encryption)  # type: ignore[arg-type]
    return key


def test_a_log_file_saying_sse_s3_means_no_key_step(log_archive: str) -> None:
    bucket = make_bucket(log_archive)
    make_trail(bucket)
    log_file(bucket, ServerSideEncryption="AES256")
    report = discover(log_archive, bucket)
    assert report.data["CloudTrailKeyArn"] == ""
    assert report.data["KeySource"] == "none"
    assert "not KMS-encrypted" in report.detail


def test_a_trail_naming_no_key_is_read_from_its_newest_log_file(log_archive: str) -> None:
    bucket = make_bucket(log_archive)
    make_trail(bucket)
    key = local_clients.kms().create_key()["KeyMetadata"]["Arn"]
    log_file(bucket, ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    report = discover(log_archive, bucket)
    assert report.data["CloudTrailKeyArn"] == key
    assert report.data["KeySource"] == "newest log object"


def test_without_a_trail_key_or_a_log_file_the_key_is_unknown_never_assumed_absent(log_archive: str) -> None:
    bucket = make_bucket(log_archive)
    make_trail(bucket)
    report = discover(log_archive, bucket)
    assert report.data["CloudTrailKeyArn"] == ""
    assert report.data["KeySource"] == "unknown"
    assert "set CloudTrailKeyArn" in report.detail


def test_a_missing_bucket_names_the_parameter_to_set(log_archive: str) -> None:
    with pytest.raises(BucketNotFound, match="LogBucketName"):
        discover(log_archive, bucket_name(log_archive))


def test_a_bucket_in_another_region_says_where_to_deploy(log_archive: str) -> None:
    bucket = make_bucket(log_archive, "eu-west-1")
    with pytest.raises(BucketInWrongRegion, match="sam deploy --region eu-west-1"):
        discover(log_archive, bucket)


def test_an_account_outside_any_organization_is_refused(calls: AwsCalls) -> None:
    with pytest.raises(OrganizationNotFound, match="Log Archive account"):
        discover("123456789012", bucket_name("123456789012"))


def test_check_reads_only_the_organization_and_the_trail(log_archive: str, calls: AwsCalls) -> None:
    bucket = make_bucket(log_archive)
    make_trail(bucket, f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    calls.clear()
    discovery.discover(
        clients.organizations(),
        clients.cloudtrail(),
        clients.s3(),
        Target(bucket, log_archive, "us-east-1"),
        Mode.CHECK,
    )
    assert calls.made == ["organizations:DescribeOrganization", "cloudtrail:DescribeTrails"]


def test_check_with_a_given_key_reads_the_organization_and_the_trail_only(log_archive: str, calls: AwsCalls) -> None:
    key = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    target = Target(make_bucket(log_archive), log_archive, "us-east-1", key)
    calls.clear()
    report = discovery.discover(clients.organizations(), clients.cloudtrail(), clients.s3(), target, Mode.CHECK)
    assert report.data["CloudTrailKeyArn"] == key
    # The trail is read at every run, even when the key is given: a trail that moved stops delivery.
    assert calls.made == ["organizations:DescribeOrganization", "cloudtrail:DescribeTrails"]


def test_remove_tolerates_a_deleted_bucket(log_archive: str) -> None:
    target = Target(bucket_name(log_archive), log_archive, "us-east-1")
    report = discovery.discover(clients.organizations(), clients.cloudtrail(), clients.s3(), target, Mode.REMOVE)
    assert report.data["BucketMissing"] is True


def test_removal_reads_a_refused_bucket_as_refused_not_as_gone() -> None:
    # moto does not refuse GetBucketLocation; S3 answers 403 to a role scoped to another bucket.
    s3 = stubbable_client("s3")
    target = Target("old-log-bucket", "123456789012", "us-east-1")
    with Stubber(s3) as stub:
        stub.add_client_error("get_bucket_location", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(AccessNotGranted, match="s3:GetBucketLocation on old-log-bucket"):
            discovery.bucket_region(s3, target, Mode.REMOVE)


def test_apply_still_names_a_refused_bucket_as_someone_elses() -> None:
    s3 = stubbable_client("s3")
    with Stubber(s3) as stub:
        stub.add_client_error("get_bucket_location", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(BucketNotFound, match="not owned by this account"):
            discovery.bucket_region(s3, Target("their-bucket", "123456789012", "us-east-1"), Mode.APPLY)


def test_key_discovery_lists_only_todays_folder_of_the_management_account_then_heads_the_newest_file() -> None:
    s3 = stubbable_client("s3")
    target = Target("logs", "123456789012", "us-east-1")
    trail = {"S3KeyPrefix": "o-abc1234567", "HomeRegion": "us-east-1"}
    day = datetime.now(UTC)
    folder = f"o-abc1234567/AWSLogs/o-abc1234567/{MANAGEMENT}/CloudTrail/us-east-1/{day:%Y/%m/%d}/"
    older, newer = f"{folder}a.json.gz", f"{folder}b.json.gz"
    key = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with Stubber(s3) as stub:
        stub.add_response(
            "list_objects_v2",
            {
                "Contents": [
                    {"Key": newer, "LastModified": day},
                    {"Key": older, "LastModified": day - timedelta(hours=1)},
                ]
            },
            {"Bucket": "logs", "Prefix": folder, "ExpectedBucketOwner": "123456789012"},
        )
        stub.add_response(
            "head_object",
            {"SSEKMSKeyId": key, "ServerSideEncryption": "aws:kms"},
            {"Bucket": "logs", "Key": newer, "ExpectedBucketOwner": "123456789012"},
        )
        found = discovery.key_of_newest_log_object(s3, target, trail, "o-abc1234567", MANAGEMENT)
        stub.assert_no_pending_responses()
    assert found == key
