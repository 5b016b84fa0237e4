"""A Control Tower-like landing zone in moto, for tests that need the whole picture.

The management account owns the organization and the CloudTrail key (whose policy other teams
use); the org/ stack, with the key-policy delegate, is deployed there afterwards (localaws.deploy
deploy_org). The Log Archive account, moto's default account, owns the log bucket,
whose notification configuration already serves two other teams. Acting as the Log Archive
without MOTO_ACCOUNT_ID keeps moto's AssumeRole account switching working.

Two generations (seed(generation)):
- "3" (up to landing zone 3.x): the bucket aws-controltower-logs-<log archive>-<region>, and the
  trail publishes to the Audit account's aws-controltower-AllConfigNotifications topic, which it
  shares with AWS Config. No SCP of that generation touches what the onboarding writes, so none is
  seeded.
- "4.0": a new zone's bucket aws-controltower-cloudtrail-logs-<log archive>-<suffix>, the trail's
  own aws-controltower-CentralizedLoggingNotifications topic in the Log Archive account, and the
  mandatory controls CT.S3.PV.8 and CT.SNS.PV.1 attached to the Log Archive account as real SCPs,
  which the local AWS enforces (localaws.controls).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import string
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID

from expel_onboarding.delivery import account_of
from localaws import patches

MANAGEMENT = "111111111111"
LOG_ARCHIVE = DEFAULT_ACCOUNT_ID
AUDIT = "222222222222"
# The member accounts the seed creates, in order (the local AWS server hands them these ids).
MEMBERS = {LOG_ARCHIVE: "Log Archive", AUDIT: "Audit"}
REGION = "us-east-1"
GENERATIONS = ("3", "4.0")
EXPEL_PRINCIPAL = "arn:aws:iam::012205512454:user/ExpelCloudService"
EXTERNAL_ID = "3f2b6c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{LOG_ARCHIVE}:stack/expel-cloudtrail/0a1b2c3d-1111-2222-3333-444455556666"


# The CloudTrail key's policy before we come: three statements of other teams.
CLOUDTRAIL_KEY_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Id": "Key policy created by CloudTrail",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Allow CloudTrail to encrypt logs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
        },
        {
            "Sid": "Audit team may describe",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:role/Audit"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
        },
    ],
}


# Landing zone 4.0's two new mandatory controls of the CloudTrail integration, as the Control Tower
# control reference prints them ("Mandatory controls", "Changes in Landing Zone 4.0 controls":
# https://docs.aws.amazon.com/controltower/latest/controlreference/mandatory-controls.html).
# Only AWSControlTowerExecution is exempt, and AWS warns that using it bypasses the guardrails.
CT_S3_PV_8: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CTS3PV8",
            "Effect": "Deny",
            "NotAction": [
                "s3:DeleteObject",
                "s3:DeleteObjectTagging",
                "s3:DeleteObjectVersion",
                "s3:DeleteObjectVersionTagging",
                "s3:Get*",
                "s3:List*",
                "s3:PutBucketTagging",
                "s3:PutObject",
                "s3:PutObjectAcl",
                "s3:PutObjectLegalHold",
                "s3:PutObjectRetention",
                "s3:PutObjectTagging",
                "s3:PutObjectVersionAcl",
                "s3:PutObjectVersionTagging",
                "s3:RestoreObject",
            ],
            "Resource": [
                "arn:*:s3:::aws-controltower-access-logs-*",
                "arn:*:s3:::aws-controltower-cloudtrail-*",
                "arn:*:s3:::aws-controltower-logs-*",
            ],
            "Condition": {"ArnNotLike": {"aws:PrincipalARN": ["arn:*:iam::*:role/AWSControlTowerExecution"]}},
        }
    ],
}
CT_SNS_PV_1: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CTSNSPV1",
            "Effect": "Deny",
            "NotAction": [
                "sns:ConfirmSubscription",
                "sns:Get*",
                "sns:List*",
                "sns:Publish",
                "sns:PutDataProtectionPolicy",
                "sns:Subscribe",
                "sns:TagResource",
                "sns:Unsubscribe",
                "sns:UntagResource",
            ],
            "Resource": "arn:*:sns:*:*:aws-controltower-CentralizedLoggingNotifications*",
            "Condition": {"ArnNotLike": {"aws:PrincipalARN": ["arn:*:iam::*:role/AWSControlTowerExecution"]}},
        }
    ],
}
MANDATORY_CONTROLS_4_0: dict[str, tuple[str, dict[str, Any]]] = {
    "CT.S3.PV.8": ("Disallow modifications to Amazon S3 buckets managed by AWS Control Tower", CT_S3_PV_8),
    "CT.SNS.PV.1": (
        "Disallow changes to Amazon SNS subscriptions and topics managed by AWS Control Tower",
        CT_SNS_PV_1,
    ),
}


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


# Calls as another account of the organization (moto's account header): see patches.as_account.
as_account = patches.as_account


def cloudtrail_key_arn() -> str:
    """The seeded CloudTrail key, found again from another process (localaws deploy)."""
    with as_account(MANAGEMENT):
        kms = boto3.client("kms", region_name=REGION)
        for key in kms.list_keys()["Keys"]:
            metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if metadata.get("Description") == "AWS Control Tower CloudTrail key":
                return str(metadata["Arn"])
    raise LookupError("no seeded CloudTrail key in the management account: run seed first")


def key_policy_of(key_arn: str) -> dict[str, Any]:
    with as_account(MANAGEMENT):
        text = boto3.client("kms", region_name=REGION).get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def notifications_of(bucket: str) -> dict[str, Any]:
    raw = boto3.client("s3", region_name=REGION).get_bucket_notification_configuration(Bucket=bucket)
    return {k: v for k, v in raw.items() if k != "ResponseMetadata"}


def log_bucket(generation: str) -> str:
    """The trail's bucket: 3.x's, which an upgraded zone keeps, or a new 4.0 zone's, whose name ends in
    a suffix Control Tower makes up (here a fixed one, derived from the account and region)."""
    if generation == "3":
        return f"aws-controltower-logs-{LOG_ARCHIVE}-{REGION}"
    suffix = hashlib.sha256(f"{LOG_ARCHIVE}:{REGION}".encode()).hexdigest()[:8]
    return f"aws-controltower-cloudtrail-logs-{LOG_ARCHIVE}-{suffix}"


def trail_topic(generation: str) -> str:
    """The topic the trail publishes to: AWS Config's shared one in the Audit account up to 3.x
    (Control Tower user guide, "Guidance on subscribing to SNS Topics"), CloudTrail's own in the Log
    Archive account from 4.0."""
    if generation == "3":
        return f"arn:aws:sns:{REGION}:{AUDIT}:aws-controltower-AllConfigNotifications"
    return f"arn:aws:sns:{REGION}:{LOG_ARCHIVE}:aws-controltower-CentralizedLoggingNotifications"


def seed(generation: str = "3") -> LandingZone:
    if generation not in GENERATIONS:
        raise ValueError(f"landing zone generation {generation!r}: choose one of {', '.join(GENERATIONS)}")
    with as_account(MANAGEMENT):
        organizations = boto3.client("organizations", region_name=REGION)
        organization_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        for account_id, name in MEMBERS.items():
            patches.create_member_account(organizations, account_id, name)
        kms = boto3.client("kms", region_name=REGION)
        key_arn = kms.create_key(Description="AWS Control Tower CloudTrail key")["KeyMetadata"]["Arn"]
        kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(CLOUDTRAIL_KEY_POLICY))

    topic_arn = _create_trail_topic(trail_topic(generation))
    bucket = log_bucket(generation)
    s3, sns, sqs = (boto3.client(name, region_name=REGION) for name in ("s3", "sns", "sqs"))
    s3.create_bucket(Bucket=bucket)
    # 3.x buckets predate 2023 and were set to BucketOwnerPreferred; a new 4.0 bucket has AWS's default
    # since April 2023, BucketOwnerEnforced (moto has no default, so it is set). Both are readable.
    ownership = "BucketOwnerPreferred" if generation == "3" else "BucketOwnerEnforced"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
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
    trail_arn = patches.create_organization_trail(bucket, key_arn, topic_arn)
    if generation == "4.0":
        # Last, as in a real zone: what is above was made by Control Tower's own role, which they exempt.
        _attach_mandatory_controls(MANDATORY_CONTROLS_4_0, LOG_ARCHIVE)
    return LandingZone(
        organization_id=organization_id,
        bucket=bucket,
        trail_arn=trail_arn,
        cloudtrail_key_arn=key_arn,
        foreign_notifications=notifications_of(bucket),
        foreign_key_policy=key_policy_of(key_arn),
        generation=generation,
        trail_topic_arn=topic_arn,
    )


def upgrade(zone: LandingZone) -> LandingZone:
    """A 3.x zone upgraded to 4.0, as Control Tower's upgrade leaves it: the bucket keeps its name
    (AWS-FACTS.md, "an upgraded zone keeps aws-controltower-logs-..."), the trail gets CloudTrail's own
    topic in the Log Archive account, and the two mandatory controls come into force."""
    if zone.generation != "3":
        raise ValueError(f"only a 3.x zone can be upgraded; this one is {zone.generation}")
    topic_arn = _create_trail_topic(trail_topic("4.0"))
    boto3.client("cloudtrail", region_name=REGION).update_trail(Name=zone.trail_arn, SnsTopicName=topic_arn)
    _attach_mandatory_controls(MANDATORY_CONTROLS_4_0, LOG_ARCHIVE)
    return replace(zone, generation="4.0", trail_topic_arn=topic_arn)


def _create_trail_topic(topic_arn: str) -> str:
    """The trail's topic, in its account, with the statement CloudTrail needs to publish to it
    (CloudTrail user guide, "Amazon SNS topic policy for CloudTrail")."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailSNSPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
            }
        ],
    }
    with as_account(account_of(topic_arn)):
        sns = boto3.client("sns", region_name=REGION)
        created = sns.create_topic(Name=topic_arn.split(":")[5], Attributes={"Policy": json.dumps(policy)})
    return str(created["TopicArn"])


def _attach_mandatory_controls(controls: dict[str, tuple[str, dict[str, Any]]], target: str) -> None:
    """Control Tower's controls as Service Control Policies, attached to the target account, with the
    SCP policy type enabled on the root (without it, SCPs are not in effect)."""
    with as_account(MANAGEMENT):
        organizations = boto3.client("organizations", region_name=REGION)
        root = organizations.list_roots()["Roots"][0]
        if not any(kind["Type"] == "SERVICE_CONTROL_POLICY" for kind in root.get("PolicyTypes", [])):
            organizations.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")
        for control, (title, document) in controls.items():
            policy = organizations.create_policy(
                Name=f"aws-guardrails-{control.replace('.', '')}",
                Description=f"{control}: {title}",
                Type="SERVICE_CONTROL_POLICY",
                Content=json.dumps(document),
            )
            organizations.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=target)


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


def deliver_log_file(zone: LandingZone, key: str | None = None) -> str:
    """What CloudTrail does with each log file: write it, gzipped, to the trail's bucket, then, if the
    trail has a topic, publish {"s3Bucket": ..., "s3ObjectKey": [...]} to it (CloudTrail user guide,
    "Configuring Amazon SNS notifications for CloudTrail"), as the topic's account. Returns the key.

    The write is an object-level PutObject, which CT.S3.PV.8 allows."""
    key = key or cloudtrail_log_key(zone.organization_id)
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
    trail = next(
        t
        for t in boto3.client("cloudtrail", region_name=REGION).describe_trails(includeShadowTrails=True)["trailList"]
        if t["TrailARN"] == zone.trail_arn
    )
    bucket = str(trail["S3BucketName"])
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=bucket,
        Key=key,
        Body=gzip.compress(json.dumps({"Records": [record]}).encode()),
        ContentType="application/json",
        ContentEncoding="gzip",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=str(trail.get("KmsKeyId") or zone.cloudtrail_key_arn),
    )
    topic_arn = str(trail.get("SnsTopicARN", ""))
    if topic_arn:
        message = json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]}, separators=(",", ":"))
        with as_account(account_of(topic_arn)):
            boto3.client("sns", region_name=REGION).publish(TopicArn=topic_arn, Message=message)
    return key
