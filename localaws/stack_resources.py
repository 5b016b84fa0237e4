"""What template.yaml creates, and org/management.yaml's key-policy delegate, made directly in moto for
the workflow tests and make bench, which run the workflow without CloudFormation (localaws.deployment)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from expel_onboarding import discovery, settings
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.naming import DELEGATE_READER_ALIAS, owned_id
from localaws import ROOT, clients
from localaws.accounts import LOG_ARCHIVE, MANAGEMENT, REGION, as_account
from localaws.landing_zone import EXPEL_PRINCIPAL, EXTERNAL_ID, STACK_ID, LandingZone

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


DELEGATE_NAME = "expel-org-KeyPolicyDelegate"


def create_delegate(landing_zone: LandingZone, log_archive: str = LOG_ARCHIVE) -> str:
    """What org/management.yaml creates for the key policy, made directly in the management account:
    the delegate function (its own code; the layer package is importable here), its role, and the
    resource-based policy that lets the Log Archive account invoke it. Returns its ARN."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.write(ROOT / "functions" / "key_policy_delegate" / "app.py", "app.py")
    with as_account(MANAGEMENT):
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        role = clients.iam().create_role(RoleName="KeyPolicyDelegateRole", AssumeRolePolicyDocument=json.dumps(trust))
        function = clients.lambda_().create_function(
            FunctionName=DELEGATE_NAME,
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="app.lambda_handler",
            Code={"ZipFile": code.getvalue()},
            Environment={
                "Variables": {
                    "CLOUDTRAIL_KEY_ARN": landing_zone.cloudtrail_key_arn,
                    "EXPEL_ROLE_ARN": f"arn:aws:iam::{log_archive}:role/ExpelTrailAssumeRole",
                    "LOG_ARCHIVE_ACCOUNT_ID": log_archive,
                    "PARTITION": "aws",
                    "POWERTOOLS_SERVICE_NAME": "expel-key-policy-delegate",
                }
            },
        )
        # Its two doors (org/management.yaml): the function for KeyPolicy, the read-only alias for Verify.
        clients.lambda_().create_alias(
            FunctionName=DELEGATE_NAME, Name=DELEGATE_READER_ALIAS, FunctionVersion="$LATEST"
        )
        clients.lambda_().add_permission(
            FunctionName=DELEGATE_NAME,
            StatementId="OnlyTheLogArchiveAccount",
            Action="lambda:InvokeFunction",
            Principal=log_archive,
        )
        clients.lambda_().add_permission(
            FunctionName=DELEGATE_NAME,
            Qualifier=DELEGATE_READER_ALIAS,
            StatementId="OnlyTheLogArchiveAccountThroughTheReader",
            Action="lambda:InvokeFunction",
            Principal=log_archive,
        )
    return str(function["FunctionArn"])


EXPEL_POLICY = "ExpelCloudTrailAccess"


def expel_data_access(bucket: str, queue_arn: str, notification_key_arn: str, management: str) -> dict[str, Any]:
    """The statements of template.yaml's ExpelPolicy through which Workbench reads (the rest are read-only
    investigation rights no step checks), for a key discovered at run time; held to the template by
    tests/template/test_parameters.py's neighbour, test_stack_resources_contract."""
    via = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadCloudTrailLogObjects",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
            {
                "Sid": "ConsumeObjectNotifications",
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                "Resource": queue_arn,
            },
            {
                "Sid": "DecryptObjectNotifications",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": notification_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}},
            },
            {
                "Sid": "DecryptCloudTrailLogObjects",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": f"arn:aws:kms:{REGION}:*:key/*",
                "Condition": {"StringEquals": {**via, "aws:ResourceAccount": management}},
            },
        ],
    }


def deploy_stack_resources(
    landing_zone: LandingZone,
    prefix: str = "",
    create_role: bool = True,
    delivery_mode: DeliveryMode = DeliveryMode.AUTO,
    delegate: bool = True,
) -> dict[str, str]:
    """What template.yaml creates, made directly; returns the environment the step functions get.

    create_role=False is CreateExpelRole=false: the org StackSet already made the role here. The
    log target comes from the organization trail, as the LogTarget custom resource finds it.
    delegate=True also deploys the org/ stack's key-policy delegate and names it, as KeyPolicyDelegateArn."""
    kms, sns = clients.kms(), clients.sns()
    sqs, iam = clients.sqs(), clients.iam()
    organization_id = discovery.management_account(clients.organizations())[1]
    target = discovery.log_target(
        clients.cloudtrail(),
        "",
        delivery_mode,
        LOG_ARCHIVE,
        REGION,
        organization_id=organization_id,
        notification_prefix=prefix,
        our_entry=discovery.our_entry_on(clients.s3(), owned_id(STACK_ID), LOG_ARCHIVE),
    )
    attributes = target.attributes("aws", REGION, LOG_ARCHIVE)
    key_arn = kms.create_key(Description="notifications")["KeyMetadata"]["Arn"]
    topic = sns.create_topic(Name="expel-cloudtrail-objects", Attributes={"KmsMasterKeyId": key_arn})["TopicArn"]
    queue_url = sqs.create_queue(QueueName="expel-cloudtrail-objects")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    relay_queues = {}
    for name in ("expel-cloudtrail-relay", "expel-cloudtrail-relay-dead-letters"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        relay_queues[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    if create_role:
        role = iam.create_role(RoleName="ExpelTrailAssumeRole", AssumeRolePolicyDocument=json.dumps(EXPEL_TRUST))[
            "Role"
        ]
    else:
        role = iam.get_role(RoleName="ExpelTrailAssumeRole")["Role"]
    management = discovery.management_account(clients.organizations())[0]
    iam.put_role_policy(
        RoleName="ExpelTrailAssumeRole",
        PolicyName=EXPEL_POLICY,
        PolicyDocument=json.dumps(expel_data_access(attributes["Bucket"], queue_arn, key_arn, management)),
    )
    values = {
        "region": REGION,
        "stack_id": STACK_ID,
        "account_id": LOG_ARCHIVE,
        "partition": "aws",
        "log_bucket": attributes["Bucket"],
        "cloudtrail_key_arn": "",
        "key_policy_delegate_arn": create_delegate(landing_zone) if delegate else "",
        "fix_object_ownership": "false",
        "notification_prefix": attributes["NotificationPrefix"],
        "topic_arn": topic,
        "queue_arn": queue_arn,
        "queue_url": queue_url,
        "subscription_arn": subscription,
        "notification_key_arn": key_arn,
        "expel_role_name": "ExpelTrailAssumeRole",
        "expel_role_in_stack": "true" if create_role else "false",
        "expel_role_arn": role["Arn"],
        "expel_principal_arn": EXPEL_PRINCIPAL,
        "workbench_external_id": EXTERNAL_ID,
        "delivery_mode": attributes["DeliveryMode"],
        "delivery_reason": attributes["Reason"],
        "requested_delivery_mode": delivery_mode.value,
        "trail_topic_arn": attributes["TopicArn"],
        "relay_queue_arn": relay_queues["expel-cloudtrail-relay"],
        "relay_dead_letter_arn": relay_queues["expel-cloudtrail-relay-dead-letters"],
        "log_target_trail": attributes["Trail"],
    }
    # Named by the product's environment contract (settings.VARIABLES): a new or renamed variable fails here.
    return {name: values[field_name] for name, field_name in settings.VARIABLES.items()}
