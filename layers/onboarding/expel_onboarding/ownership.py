"""Step 3 of Expel's Control Tower guide: the log bucket's object ownership must let the bucket owner read every object.

BucketOwnerEnforced (ACLs off, AWS's default since 2023) and BucketOwnerPreferred are fine. With
ObjectWriter, or no ownership controls at all (which behaves the same), objects written by
CloudTrail from the management account could stay owned by it and be unreadable to the Expel role.
Changing ownership is another team's setting, so we change it only when the customer opts in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from expel_onboarding.errors import error_code, error_message, is_explicit_deny, translate
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import OwnershipControlsTypeDef

STEP = "Ownership"
READABLE = frozenset({"BucketOwnerEnforced", "BucketOwnerPreferred"})
FIXED: Final = "BucketOwnerPreferred"
DENY_ALTERNATIVES = (
    "Control Tower landing zone 4.0's CT.S3.PV.8 (CTS3PV8) denies PutBucketOwnershipControls on its buckets to "
    "every role but AWSControlTowerExecution, which we never use: set FixObjectOwnership=false and ask "
    "Control Tower support to confirm the trail's objects are bucket-owned."
)


@dataclass(frozen=True)
class Target:
    bucket: str
    bucket_owner: str
    fix: bool
    # False where a mandatory control owns the bucket (trail-topic mode, landing zone 4.0): read only.
    writable: bool = True


def read(s3: S3Client, target: Target) -> str | None:
    try:
        controls = s3.get_bucket_ownership_controls(Bucket=target.bucket, ExpectedBucketOwner=target.bucket_owner)
    except ClientError as exc:
        if error_code(exc) == "OwnershipControlsNotFoundError":
            return None
        raise translate(exc, "s3:GetBucketOwnershipControls", target.bucket, DENY_ALTERNATIVES) from exc
    rules = controls["OwnershipControls"]["Rules"]
    return str(rules[0]["ObjectOwnership"]) if rules else None


def fix_command(bucket: str) -> str:
    return (
        f"aws s3api put-bucket-ownership-controls --bucket {bucket} "
        f"--ownership-controls 'Rules=[{{ObjectOwnership={FIXED}}}]'"
    )


def converge(s3: S3Client, target: Target, mode: Mode) -> StepReport:
    if mode is Mode.REMOVE:
        # Reverting to ObjectWriter would make objects unreadable to their owner again: never undo.
        return StepReport(STEP, Status.OK, f"Object ownership of {target.bucket} is left as it is.", {})
    current = read(s3, target)
    data = {"Bucket": target.bucket, "ObjectOwnership": current or "none"}
    if current in READABLE:
        return StepReport(STEP, Status.OK, f"{target.bucket} has {current} object ownership.", data)
    found = f"{target.bucket} has {current or 'no ownership controls (which acts as ObjectWriter)'}"
    why = "so log objects written by another account may stay that account's, unreadable to the Expel role."
    if not target.fix:
        return StepReport(
            STEP,
            Status.ACTION_REQUIRED,
            f"{found}, {why} Set FixObjectOwnership=true and re-run, or run: {fix_command(target.bucket)}",
            data,
        )
    if not target.writable:
        detail = f"{found}, {why} FixObjectOwnership=true, but this step only reads here. {DENY_ALTERNATIVES}"
        return StepReport(STEP, Status.ACTION_REQUIRED, detail, data)
    if mode is Mode.CHECK:
        return StepReport(STEP, Status.DRIFTED, f"{found}; repair will set {FIXED}.", data)
    controls: OwnershipControlsTypeDef = {"Rules": [{"ObjectOwnership": FIXED}]}
    try:
        s3.put_bucket_ownership_controls(
            Bucket=target.bucket, ExpectedBucketOwner=target.bucket_owner, OwnershipControls=controls
        )
    except ClientError as exc:
        if is_explicit_deny(exc):
            detail = (
                f"{found}. Setting {FIXED} is blocked by an explicit deny ({error_message(exc)}). {DENY_ALTERNATIVES}"
            )
            return StepReport(STEP, Status.ACTION_REQUIRED, detail, data)
        raise translate(exc, "s3:PutBucketOwnershipControls", target.bucket, DENY_ALTERNATIVES) from exc
    return StepReport(STEP, Status.CHANGED, f"{found}; set it to {FIXED}.", {**data, "ObjectOwnership": FIXED})
