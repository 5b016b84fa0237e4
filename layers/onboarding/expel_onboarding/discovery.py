"""The first step: find what the customer did not tell us, and refuse what cannot work.

Workbench needs the management account id; the key step needs the trail's KMS key; and S3 can
notify only a topic in its own region, so the bucket must be in the stack's region. Discovery only
reads, in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from expel_onboarding.errors import (
    BucketInWrongRegion,
    BucketNotFound,
    OrganizationNotFound,
    error_code,
    translate,
)
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3 import S3Client

STEP = "Discover"
NO_ALTERNATIVES = "Grant the read to this stack's discover function role."


@dataclass(frozen=True)
class Target:
    bucket: str
    account_id: str
    region: str
    key_arn_parameter: str = ""


def management_account(organizations: OrganizationsClient) -> tuple[str, str]:
    """(management account id, organization id)."""
    try:
        organization = organizations.describe_organization()["Organization"]
    except ClientError as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            raise OrganizationNotFound(
                "This account is not a member of an AWS Organization, so there is no management account.",
                "deploy in the Control Tower Log Archive account of your organization.",
            ) from exc
        raise translate(exc, "organizations:DescribeOrganization", "the organization", NO_ALTERNATIVES) from exc
    return organization["MasterAccountId"], organization["Id"]


def bucket_region(s3: S3Client, target: Target) -> str:
    try:
        location = s3.get_bucket_location(Bucket=target.bucket, ExpectedBucketOwner=target.account_id)
    except ClientError as exc:
        if error_code(exc) in {"NoSuchBucket", "404"}:
            raise BucketNotFound(
                f"The log bucket {target.bucket} does not exist.",
                "set LogBucketName to the bucket your organization trail writes to (CloudTrail console: "
                "Trails, the Control Tower trail, 'Trail log location').",
            ) from exc
        if error_code(exc) in {"AccessDenied", "403"}:
            raise BucketNotFound(
                f"The log bucket {target.bucket} is not owned by this account ({target.account_id}), or this "
                "account may not read it.",
                "deploy this stack in the Log Archive account that owns the bucket.",
            ) from exc
        raise translate(exc, "s3:GetBucketLocation", target.bucket, NO_ALTERNATIVES) from exc
    # us-east-1 reports no constraint, and the oldest eu-west-1 buckets report the legacy "EU".
    constraint: str | None = location.get("LocationConstraint")
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def trail_for_bucket(cloudtrail: CloudTrailClient, bucket: str) -> dict[str, Any] | None:
    """The trail writing to the bucket, preferring the organization trail over account trails."""
    trails = [
        t for t in cloudtrail.describe_trails(includeShadowTrails=True)["trailList"] if t.get("S3BucketName") == bucket
    ]
    trails.sort(key=lambda trail: not trail.get("IsOrganizationTrail", False))
    return dict(trails[0]) if trails else None


def discover(
    organizations: OrganizationsClient,
    cloudtrail: CloudTrailClient,
    s3: S3Client,
    target: Target,
    mode: Mode = Mode.APPLY,
) -> StepReport:
    management_account_id, organization_id = management_account(organizations)
    region = target.region
    # The region matters before writing (S3 notifies only a topic in its own region); a bucket
    # cannot move region, so a read-only check skips the call.
    if mode is not Mode.CHECK:
        try:
            region = bucket_region(s3, target)
        except BucketNotFound:
            if mode is not Mode.REMOVE:
                raise
            # A deleted bucket took our entry with it: removal has nothing to do there.
            detail = f"{target.bucket} is gone, and our notification entry with it."
            data = {"ManagementAccountId": management_account_id, "Bucket": target.bucket, "BucketMissing": True}
            return StepReport(STEP, Status.OK, detail, data)
    if region != target.region and mode is not Mode.REMOVE:
        raise BucketInWrongRegion(
            f"The log bucket {target.bucket} is in {region}, but this stack is in {target.region}; S3 can only "
            "notify a topic in the bucket's own region.",
            f"delete this stack and deploy it in {region} (sam deploy --region {region}).",
        )
    # The trail only matters to a check when it names the key; a given key wins anyway.
    skip_trail = mode is Mode.CHECK and bool(target.key_arn_parameter)
    trail = None if skip_trail else trail_for_bucket(cloudtrail, target.bucket)
    trail_key = str(trail.get("KmsKeyId", "")) if trail else ""
    key_arn = target.key_arn_parameter or trail_key
    source = "parameter" if target.key_arn_parameter else ("trail" if trail_key else "none")
    notes = [f"Management account {management_account_id} ({organization_id}); {target.bucket} is in {region}."]
    if trail is None and not skip_trail:
        notes.append(f"No trail visible from this account writes to {target.bucket}.")
    elif trail is not None:
        notes.append(f"Trail {trail['TrailARN']} writes to it.")
    if not key_arn:
        notes.append("The logs are not KMS-encrypted (SSE-S3), so there is no key to grant.")
    elif target.key_arn_parameter and trail_key and trail_key != target.key_arn_parameter:
        notes.append(f"CloudTrailKeyArn {key_arn} wins over the trail's key {trail_key}; check it is intended.")
    else:
        notes.append(f"Log objects are encrypted with {key_arn} (from the {source}).")
    data = {
        "ManagementAccountId": management_account_id,
        "OrganizationId": organization_id,
        "Bucket": target.bucket,
        "BucketRegion": region,
        "TrailArn": trail["TrailARN"] if trail else "",
        "CloudTrailKeyArn": key_arn,
        "KeySource": source,
    }
    return StepReport(STEP, Status.OK, " ".join(notes), data)
