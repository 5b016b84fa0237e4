"""What template.yaml creates, made directly in moto, for tests that run the workflow without CloudFormation."""

from __future__ import annotations

import json

import boto3

from localaws.landing_zone import (  # noqa: F401 - re-exported for the tests
    EXPEL_PRINCIPAL,
    EXTERNAL_ID,
    LOG_ARCHIVE,
    MANAGEMENT,
    REGION,
    STACK_ID,
    LandingZone,
    as_account,
    key_policy_of,
    notifications_of,
    seed,
)

# The Expel role's trust, as template.yaml (and org/member-role.yaml) write it.
EXPEL_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": EXPEL_PRINCIPAL},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
        }
    ],
}


def deploy_stack_resources(
    landing_zone: LandingZone, prefix: str = "AWSLogs/", create_role: bool = True
) -> dict[str, str]:
    """What template.yaml creates, made directly; returns the environment the step functions get.

    create_role=False is CreateExpelRole=false: the org StackSet already made the role here."""
    kms, sns, sqs, iam = (boto3.client(name, region_name=REGION) for name in ("kms", "sns", "sqs", "iam"))
    key_arn = kms.create_key(Description="notifications")["KeyMetadata"]["Arn"]
    topic = sns.create_topic(Name="expel-cloudtrail-objects", Attributes={"KmsMasterKeyId": key_arn})["TopicArn"]
    queue_url = sqs.create_queue(QueueName="expel-cloudtrail-objects")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    if create_role:
        role = iam.create_role(RoleName="ExpelTrailAssumeRole", AssumeRolePolicyDocument=json.dumps(EXPEL_TRUST))[
            "Role"
        ]
    else:
        role = iam.get_role(RoleName="ExpelTrailAssumeRole")["Role"]
    return {
        "AWS_REGION": REGION,
        "STACK_ID": STACK_ID,
        "ACCOUNT_ID": LOG_ARCHIVE,
        "PARTITION": "aws",
        "LOG_BUCKET_NAME": landing_zone.bucket,
        "CLOUDTRAIL_KEY_ARN": "",
        "KEY_POLICY_ROLE_ARN": landing_zone.key_policy_role_arn,
        "FIX_OBJECT_OWNERSHIP": "false",
        "NOTIFICATION_PREFIX": prefix,
        "TOPIC_ARN": topic,
        "QUEUE_ARN": queue_arn,
        "QUEUE_URL": queue_url,
        "SUBSCRIPTION_ARN": subscription,
        "NOTIFICATION_KEY_ARN": key_arn,
        "EXPEL_ROLE_NAME": "ExpelTrailAssumeRole",
        "CREATE_EXPEL_ROLE": "true" if create_role else "false",
        "EXPEL_ROLE_ARN": role["Arn"],
        "EXPEL_PRINCIPAL_ARN": EXPEL_PRINCIPAL,
        "WORKBENCH_EXTERNAL_ID": EXTERNAL_ID,
    }
