"""A Control Tower-like landing zone in moto, for tests that need the whole picture.

The management account owns the organization and the CloudTrail key (whose policy other teams
use); the org/ stack, with the key-policy delegate, is deployed there afterwards (localaws.deploy
deploy_org). The Log Archive account, moto's default account, owns the log bucket,
whose notification configuration already serves two other teams. Acting as the Log Archive
without MOTO_ACCOUNT_ID keeps moto's AssumeRole account switching working.

Two generations (seed(generation)):
- "3" (up to landing zone 3.x): the bucket aws-controltower-logs-<log archive>-<region>, which AWS
  Config writes into too, and the trail publishes to the Audit account's
  aws-controltower-AllConfigNotifications topic, which it shares with AWS Config. No SCP of that
  generation touches what the onboarding writes, so none is seeded.
- "4.0": a new zone's bucket aws-controltower-cloudtrail-logs-<log archive>-<suffix>, the trail's
  own aws-controltower-CentralizedLoggingNotifications topic in the Log Archive account, AWS Config
  in a bucket of its own, and the mandatory controls CT.S3.PV.8 and CT.SNS.PV.1 attached to the Log
  Archive account as real SCPs, which the local AWS enforces (localaws.controls).

In both, the trail writes in Control Tower's layout: its S3KeyPrefix is the organization id, so log
files land under <o-id>/AWSLogs/<o-id>/<account>/CloudTrail/ (localaws.cloudtrail_logs).

What Control Tower makes (names, documents, controls) is in localaws.control_tower; the log files its
trail writes, in localaws.cloudtrail_logs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from localaws import clients, replacements
from localaws.accounts import AUDIT, LOG_ARCHIVE, MANAGEMENT, MEMBERS, REGION, as_account
from localaws.cloudtrail_logs import TRAIL_NAME, cloudtrail_log_key, log_file
from localaws.control_tower import (
    CLOUDTRAIL_KEY_POLICY,
    MANDATORY_CONTROLS_4_0,
    attach_mandatory_controls,
    config_bucket,
    create_trail_topic,
    log_bucket,
    trail_topic,
)

GENERATIONS = ("3", "4.0")
EXPEL_PRINCIPAL = "arn:aws:iam::012205512454:user/ExpelCloudService"
EXTERNAL_ID = "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{LOG_ARCHIVE}:stack/expel-cloudtrail/0a1b2c3d-1111-2222-3333-444455556666"


@dataclass(frozen=True)
class LandingZone:
    organization_id: str
    bucket: str
    trail_arn: str
    cloudtrail_key_arn: str
    foreign_notifications: dict[str, Any]
    foreign_key_policy: dict[str, Any]
    generation: str  # "3" or "4.0"
    trail_topic_arn: str  # the SNS topic the organization trail publishes to
    config_bucket: str  # where AWS Config writes: the log bucket up to 3.x, a bucket of its own from 4.0
    config_topic_arn: str = ""  # where AWS Config announces its files: AllConfigNotifications up to 3.x

    @property
    def key_prefix(self) -> str:
        """The organization trail's S3KeyPrefix: Control Tower sets the organization id."""
        return self.organization_id


def cloudtrail_key_arn() -> str:
    """The seeded CloudTrail key, found again from another process (localaws deploy)."""
    with as_account(MANAGEMENT):
        kms = clients.kms()
        for key in kms.list_keys()["Keys"]:
            metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if metadata.get("Description") == "AWS Control Tower CloudTrail key":
                return str(metadata["Arn"])
    raise LookupError("no seeded CloudTrail key in the management account: run seed first")


def key_policy_text_of(key_arn: str) -> str:
    """The key policy's text as KMS returns it: what a byte-for-byte comparison needs."""
    with as_account(MANAGEMENT):
        return clients.kms().get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]


def put_key_policy_text(key_arn: str, text: str) -> None:
    """Write a key policy as its administrators would, in the management account."""
    with as_account(MANAGEMENT):
        clients.kms().put_key_policy(KeyId=key_arn, PolicyName="default", Policy=text)


def key_policy_of(key_arn: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(key_policy_text_of(key_arn))
    return parsed


def notifications_of(bucket: str) -> dict[str, Any]:
    raw = clients.s3().get_bucket_notification_configuration(Bucket=bucket)
    return {k: v for k, v in raw.items() if k != "ResponseMetadata"}


def seed(generation: str = "3") -> LandingZone:
    if generation not in GENERATIONS:
        raise ValueError(f"landing zone generation {generation!r}: choose one of {', '.join(GENERATIONS)}")
    with as_account(MANAGEMENT):
        organizations = clients.organizations()
        organization_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        for account_id, name in MEMBERS.items():
            create_member_account(organizations, account_id, name)
        kms = clients.kms()
        key_arn = kms.create_key(Description="AWS Control Tower CloudTrail key")["KeyMetadata"]["Arn"]
        kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(CLOUDTRAIL_KEY_POLICY))

    topic_arn = create_trail_topic(trail_topic(generation))
    bucket = log_bucket(generation)
    s3, sns, sqs = clients.s3(), clients.sns(), clients.sqs()
    s3.create_bucket(Bucket=bucket)
    # 3.x buckets predate 2023 and were set to BucketOwnerPreferred; a new 4.0 bucket has AWS's default
    # since April 2023, BucketOwnerEnforced (moto has no default, so it is set). Both are readable.
    s3.put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerPreferred" if generation == "3" else "BucketOwnerEnforced"}]
        },
    )
    queue_url = sqs.create_queue(QueueName="security-lake-feed")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    audit_topic = sns.create_topic(Name="audit-deletions")["TopicArn"]
    foreign = {
        "QueueConfigurations": [
            {
                "Id": "security-lake",
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "reports/"}]}},
            }
        ],
        "TopicConfigurations": [{"Id": "audit-deletions", "TopicArn": audit_topic, "Events": ["s3:ObjectRemoved:*"]}],
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=foreign)  # type: ignore[arg-type]
    trail_arn = create_organization_trail(bucket, key_arn, topic_arn, organization_id)
    # A landing zone has history: the management account's last log file, written before anyone onboards.
    s3.put_object(
        Bucket=bucket,
        Key=cloudtrail_log_key(organization_id, organization_id),
        Body=log_file(),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
    )
    own_config_bucket = create_config_bucket() if generation == "4.0" else bucket
    if generation == "4.0":
        # Last, as in a real zone: what is above was made by Control Tower's own role, which they exempt.
        attach_mandatory_controls(MANDATORY_CONTROLS_4_0, LOG_ARCHIVE)
    return LandingZone(
        organization_id=organization_id,
        bucket=bucket,
        trail_arn=trail_arn,
        cloudtrail_key_arn=key_arn,
        foreign_notifications=notifications_of(bucket),
        foreign_key_policy=key_policy_of(key_arn),
        generation=generation,
        trail_topic_arn=topic_arn,
        config_bucket=own_config_bucket,
        config_topic_arn=topic_arn if generation == "3" else "",
    )


def create_config_bucket() -> str:
    """Landing zone 4.0's bucket for AWS Config alone, in the Audit account (AWS's upgrade guidance names it
    aws-controltower-config-logs-<audit account>-<region>-<suffix>); Config's objects no longer reach the
    trail's bucket."""
    name = config_bucket()
    with as_account(AUDIT):
        clients.s3().create_bucket(Bucket=name)
    return name


def upgrade(zone: LandingZone) -> LandingZone:
    """A 3.x zone upgraded to 4.0, as Control Tower's upgrade leaves it: the bucket keeps its name
    (aws-controltower-logs-...; a zone that enables the CloudTrail integration on 4.0 gets a new
    aws-controltower-cloudtrail-... bucket instead), the trail gets CloudTrail's own topic in the Log Archive
    account, and the two mandatory controls come into force (Control Tower control reference, "Changes in
    Landing Zone 4.0 controls")."""
    if zone.generation != "3":
        raise ValueError(f"only a 3.x zone can be upgraded; this one is {zone.generation}")
    topic_arn = create_trail_topic(trail_topic("4.0"))
    clients.cloudtrail().update_trail(Name=zone.trail_arn, SnsTopicName=topic_arn)
    attach_mandatory_controls(MANDATORY_CONTROLS_4_0, LOG_ARCHIVE)
    # AWS Config moves to a bucket of its own; what it wrote before stays where it was.
    return replace(
        zone, generation="4.0", trail_topic_arn=topic_arn, config_bucket=create_config_bucket(), config_topic_arn=""
    )


def create_member_account(organizations: Any, account_id: str, name: str) -> None:
    """Gap: moto gives new member accounts random ids, and acting as one through MOTO_ACCOUNT_ID
    disables the access-key account switching that cross-account AssumeRole relies on. So the
    member gets the id we choose (moto's default account), and no MOTO_ACCOUNT_ID is needed."""
    # The client commands seed a local AWS server, which hands out these ids itself (service_gaps.server_gaps);
    # replacements imports moto only when applied.
    with replacements.applied("organizations-seeded-account-ids", member_ids=(account_id,)):
        organizations.create_account(Email=f"{name.lower().replace(' ', '-')}@example.com", AccountName=name)


def create_organization_trail(bucket: str, key_arn: str, topic_arn: str = "", key_prefix: str = "") -> str:
    """Gap: moto keeps a trail in the account that created it, while AWS shows the management
    account's organization trail to every member. So the trail is created where the Log Archive
    account (the caller) can describe it, with the management account's key, Control Tower's key
    prefix (the organization id) and, if given, the topic it publishes to (named by ARN: it may be
    another account's, see trail_topics_by_arn)."""
    arguments: dict[str, Any] = {"SnsTopicName": topic_arn} if topic_arn else {}
    if key_prefix:
        arguments["S3KeyPrefix"] = key_prefix
    try:
        trail = clients.cloudtrail().create_trail(
            Name=TRAIL_NAME,
            S3BucketName=bucket,
            IsMultiRegionTrail=True,
            IsOrganizationTrail=True,
            KmsKeyId=key_arn,
            **arguments,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "InsufficientSnsTopicPolicyException":
            raise
        raise RuntimeError(
            f"moto refused the trail topic {topic_arn}: run the local AWS with service_gaps.filled() "
            "(server.running() and the test fixtures do), which lets a trail name its topic by ARN."
        ) from exc
    return str(trail["TrailARN"])


def grow(members: int) -> None:
    """More member accounts, made as the management account's CreateAccount makes them, through moto's
    Organizations itself: an organization of thousands for the feed's sizing, without thousands of requests."""
    from moto.organizations.models import organizations_backends

    backend = organizations_backends[MANAGEMENT]["aws"]
    for index in range(members):
        backend.create_account(Email=f"member-{index}@example.com", AccountName=f"member-{index}")
