"""What Control Tower makes, as the local landing zone seeds it: its names, the CloudTrail key's policy,
the trail's topic, and landing zone 4.0's mandatory controls as service control policies."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from expel_onboarding.delivery import account_of
from localaws import clients
from localaws.accounts import AUDIT, LOG_ARCHIVE, MANAGEMENT, REGION, as_account

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


def log_bucket(generation: str) -> str:
    """The trail's bucket: 3.x's, which an upgraded zone keeps, or a new 4.0 zone's, whose name ends in
    a suffix Control Tower makes up (here a fixed one, derived from the account and region)."""
    if generation == "3":
        return f"aws-controltower-logs-{LOG_ARCHIVE}-{REGION}"
    suffix = hashlib.sha256(f"{LOG_ARCHIVE}:{REGION}".encode()).hexdigest()[:8]
    return f"aws-controltower-cloudtrail-logs-{LOG_ARCHIVE}-{suffix}"


def config_bucket() -> str:
    """Landing zone 4.0's bucket for AWS Config, in the Audit account, with a suffix Control Tower makes up."""
    suffix = hashlib.sha256(f"config:{AUDIT}:{REGION}".encode()).hexdigest()[:8]
    return f"aws-controltower-config-logs-{AUDIT}-{REGION}-{suffix}"


def trail_topic(generation: str) -> str:
    """The topic the trail publishes to: AWS Config's shared one in the Audit account up to 3.x
    (Control Tower user guide, "Guidance on subscribing to SNS Topics"), CloudTrail's own in the Log
    Archive account from 4.0."""
    if generation == "3":
        return f"arn:aws:sns:{REGION}:{AUDIT}:aws-controltower-AllConfigNotifications"
    return f"arn:aws:sns:{REGION}:{LOG_ARCHIVE}:aws-controltower-CentralizedLoggingNotifications"


def create_trail_topic(topic_arn: str) -> str:
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
        sns = clients.sns()
        created = sns.create_topic(Name=topic_arn.split(":")[5], Attributes={"Policy": json.dumps(policy)})
    return str(created["TopicArn"])


def attach_mandatory_controls(controls: dict[str, tuple[str, dict[str, Any]]], target: str) -> None:
    """Control Tower's controls as Service Control Policies, attached to the target account, with the
    SCP policy type enabled on the root (without it, SCPs are not in effect)."""
    with as_account(MANAGEMENT):
        organizations = clients.organizations()
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
