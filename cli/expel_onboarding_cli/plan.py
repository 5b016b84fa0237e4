"""plan: what a deploy would find and change, read with a person's own credentials before any deploy.

Like `terraform plan`, it only reads. It asks what the stack would ask (the organization trail, its
bucket, key and topic, the management account, the delivery mode `auto` picks) with the same
discovery functions the LogTarget resource and the Discover step use, then builds what the
Notification and KeyPolicy steps would write with their own domain functions and runs their own
checks on it (overlapping entries, the key policy's size, deleted principals, repeated Sids). A
refusal the deploy would meet therefore shows here first, in the deploy's own words, with its fix.

Nothing here writes: every call is a Describe, Get or List, or the key-policy delegate's "read"
(a test counts the calls against the local AWS and finds no write). What only the deploy creates
(the topic, the queue, the stack's id, from which our Sid and notification Id derive) is shown as
"(known after deploy)", unless the stack exists already: then its own values are used, so that an
update's plan shows what it would change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from expel_onboarding import clients, discovery, key_policy, notification, ownership
from expel_onboarding.delivery import DeliveryMode, account_of
from expel_onboarding.errors import (
    AccessNotGranted,
    ExplicitDeny,
    InvalidInput,
    OnboardingError,
    error_code,
)
from expel_onboarding.key_policy import delegated
from expel_onboarding.naming import OWNED_PREFIX, key_statement_sid, owned_id
from expel_onboarding.reports import Mode, Status
from expel_onboarding.settings import delivery_mode
from expel_onboarding_cli import plan_load, template_parameters

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sts import STSClient

KNOWN_AFTER_DEPLOY = "(known after deploy)"
# Stands in for our Sid and notification Id before the stack (whose id they derive from) exists. It has
# the length of a real one (naming.owned_id: the prefix and 12 hex digits), so the size check counts
# the bytes the deploy will send.
PLACEHOLDER_ID = f"{OWNED_PREFIX}{'0' * 12}"
PLANNED = "not-deployed-yet"
SHOWN_ID = f"{OWNED_PREFIX}{KNOWN_AFTER_DEPLOY}"
PLACEHOLDER_TOPIC = "arn:aws:sns:placeholder:000000000000:placeholder"
# The template's logical id of our topic: an existing stack's plan reads its ARN from there.
TOPIC_RESOURCE = "NotificationTopic"
RELAY_QUEUE = "RelayQueue"
GONE = ("DELETE_COMPLETE",)
# A refusal of the person's own read is the plan failing (exit 1), not something the deploy would meet.
READ_REFUSED = (AccessNotGranted, ExplicitDeny)


@dataclass(frozen=True)
class Parameters:
    """The deploy parameters that change what the stack would find or write, with template.yaml's
    defaults (a contract test holds them to the template)."""

    stack_name: str = "expel-cloudtrail-onboarding"
    log_bucket_name: str = ""
    delivery_mode: DeliveryMode = DeliveryMode.AUTO
    cloudtrail_key_arn: str = ""
    notification_prefix: str = ""
    expel_role_name: str = "ExpelTrailAssumeRole"
    key_policy_delegate_arn: str = ""
    fix_object_ownership: bool = False


@dataclass(frozen=True)
class Readers:
    """The clients a plan reads with: a person's own, and optionally a session in the key's account
    (only that account can read a key policy)."""

    sts: STSClient
    organizations: OrganizationsClient
    cloudtrail: CloudTrailClient
    s3: S3Client
    kms: KMSClient
    cloudformation: CloudFormationClient
    lambda_: LambdaClient
    region: str
    ec2: Any = None
    sns: SNSClient | None = None
    key_account_kms: KMSClient | None = None
    # The management account's Organizations, when the plan has its profile: only it may list the accounts.
    key_account_organizations: OrganizationsClient | None = None


@dataclass(frozen=True)
class Change:
    """One thing the deploy would touch outside its own resources, and what it would do there.

    status: OK (nothing to change), CHANGED (it would change this, as shown) or ACTION_REQUIRED (the
    deploy would stop here, or leave it to a person: the detail says what to do)."""

    name: str
    target: str
    status: Status
    detail: str
    diff: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Target": self.target,
            "Status": self.status.value,
            "Detail": self.detail,
            "Diff": list(self.diff),
        }


@dataclass
class Plan:
    stack_name: str
    account_id: str
    region: str
    stack_exists: bool = False
    discovered: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    # Where each parameter's value comes from: "given", "stack" (the existing stack's), "default", or
    # "discovered" (an empty default that the deploy fills from the trail).
    sources: dict[str, str] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)
    load: plan_load.Sized | None = None

    @property
    def needs_action(self) -> bool:
        return any(change.status is Status.ACTION_REQUIRED for change in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "StackName": self.stack_name,
            "AccountId": self.account_id,
            "Region": self.region,
            "StackExists": self.stack_exists,
            "Discovered": self.discovered,
            "Parameters": self.parameters,
            "ParameterSources": self.sources,
            "Changes": [change.to_dict() for change in self.changes],
            "Created": self.created,
            "Load": self.load.to_dict() if self.load else None,
            "ActionRequired": [change.name for change in self.changes if change.status is Status.ACTION_REQUIRED],
        }


@dataclass(frozen=True)
class Existing:
    """What an existing stack of that name fixes already: its id (our Sid and Id), its topic, and the
    parameters it was deployed with (an update starts from them, as sam deploy's does)."""

    stack_id: str
    topic_arn: str
    queue_url: str
    parameters: dict[str, str] = field(default_factory=dict)


def existing_stack(cloudformation: CloudFormationClient, stack_name: str) -> Existing | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        # CloudFormation answers ValidationError "Stack with id ... does not exist" for a new name.
        if error_code(exc) == "ValidationError":
            return None
        raise
    if not stacks or stacks[0].get("StackStatus") in GONE:
        return None
    try:
        topic = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=TOPIC_RESOURCE)
        topic_arn = str(topic["StackResourceDetail"].get("PhysicalResourceId") or "")
    except ClientError:
        topic_arn = ""
    outputs = {output["OutputKey"]: output.get("OutputValue", "") for output in stacks[0].get("Outputs", [])}
    deployed = {
        str(parameter["ParameterKey"]): str(parameter.get("ParameterValue", ""))
        for parameter in stacks[0].get("Parameters", [])
    }
    return Existing(str(stacks[0]["StackId"]), topic_arn, str(outputs.get("SqsUrl") or KNOWN_AFTER_DEPLOY), deployed)


# template.yaml's other parameters: a plan accepts them (so a deploy's own overrides can be pasted) but
# they change nothing it reads or would write.
NOT_PLANNED = (
    "WorkbenchExternalId",
    "ExpelPrincipalArn",
    "CreateExpelRole",
    "LogTargetRevision",
    "DriftCheckSchedule",
    "AutoRepair",
    "AlarmEmail",
    "PermissionsBoundaryArn",
)


def checked(overrides: Mapping[str, str]) -> dict[str, str]:
    """The overrides, when template.yaml declares each and CloudFormation would take its value: else
    InvalidInput with CloudFormation's own message and the fix, before anything is read."""
    declared = template_parameters.declared()
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise InvalidInput(
            f"template.yaml has no parameter {', '.join(unknown)}.", f"name one of {', '.join(declared)}."
        )
    refused = template_parameters.first_refusal(declared, overrides)
    if refused:
        said = refused.message if refused.message.endswith(".") else f"{refused.message}."
        raise InvalidInput(f"CloudFormation would refuse the deploy: {said}", refused.fix)
    return dict(overrides)


def from_overrides(
    overrides: Mapping[str, str], stack_name: str, deployed: Mapping[str, str] | None = None
) -> Parameters:
    """Parameters from sam deploy's Name=Value overrides, over an existing stack's own values (deployed), over
    template.yaml's defaults."""
    values = {**template_parameters.defaults(template_parameters.declared()), **(deployed or {}), **checked(overrides)}
    return Parameters(
        stack_name=stack_name,
        log_bucket_name=values["LogBucketName"],
        delivery_mode=delivery_mode(values["DeliveryMode"], "DeliveryMode"),
        cloudtrail_key_arn=values["CloudTrailKeyArn"],
        notification_prefix=values["NotificationPrefix"],
        expel_role_name=values["ExpelRoleName"],
        key_policy_delegate_arn=values["KeyPolicyDelegateArn"],
        fix_object_ownership=values["FixObjectOwnership"] == "true",
    )


def template_values(parameters: Parameters) -> dict[str, str]:
    """The parameters by template.yaml's names, as CloudFormation sees them (strings)."""
    return {
        "LogBucketName": parameters.log_bucket_name,
        "DeliveryMode": parameters.delivery_mode.value,
        "CloudTrailKeyArn": parameters.cloudtrail_key_arn,
        "NotificationPrefix": parameters.notification_prefix,
        "ExpelRoleName": parameters.expel_role_name,
        "KeyPolicyDelegateArn": parameters.key_policy_delegate_arn,
        "FixObjectOwnership": str(parameters.fix_object_ownership).lower(),
    }


@dataclass(frozen=True)
class Sizing:
    """What a person may tell the plan of the organization's size and quota (else it reads them)."""

    accounts: int | None = None
    sns_publish_quota: int | None = None


def make(readers: Readers, overrides: Mapping[str, str], stack_name: str, sizing: Sizing | None = None) -> Plan:
    """The plan: every read the deploy's first run would make, and the writes it would then attempt. On an
    existing stack the overrides apply over the stack's own parameters (its delegate among them)."""
    identity = readers.sts.get_caller_identity()
    account, partition = str(identity["Account"]), str(identity["Arn"]).split(":")[1]
    plan = Plan(stack_name, account, readers.region)
    existing = existing_stack(readers.cloudformation, stack_name)
    plan.stack_exists = existing is not None
    deployed = existing.parameters if existing else {}
    parameters = from_overrides(overrides, stack_name, deployed)
    entry_id = owned_id(existing.stack_id) if existing else PLACEHOLDER_ID
    # The management account's delegate answers only for a Sid derived from a Log Archive stack id. Before
    # the stack exists, its "read" is asked about a stack of that name: a Sid no policy holds, read only.
    stack_id = (
        existing.stack_id
        if existing
        else f"arn:{partition}:cloudformation:{readers.region}:{account}:stack/{parameters.stack_name}/{PLANNED}"
    )
    topic_arn = existing.topic_arn if existing and existing.topic_arn else PLACEHOLDER_TOPIC
    # template.yaml's own formula for the role's ARN (EXPEL_ROLE_ARN; the role has no path), held to it by a
    # contract test: the statement shown is the one the deploy writes.
    role_arn = f"arn:{partition}:iam::{account}:role/{parameters.expel_role_name}"
    plan.parameters = template_values(parameters)
    plan.sources = {
        name: "given" if name in overrides else "stack" if name in deployed else "default" for name in plan.parameters
    }
    plan.created = {
        "ExpelRoleArn": role_arn,
        "TopicArn": _shown(topic_arn),
        "SqsUrl": existing.queue_url if existing else KNOWN_AFTER_DEPLOY,
        "OwnedId": _shown(entry_id),
    }
    # The LogTarget resource, at the start of the deploy: the trail's bucket and topic, and the mode.
    try:
        management_account_id, organization_id = discovery.management_account(readers.organizations)
        found = discovery.log_target(
            readers.cloudtrail,
            parameters.log_bucket_name,
            parameters.delivery_mode,
            account,
            readers.region,
            organization_id=organization_id,
            notification_prefix=parameters.notification_prefix,
            # A stack not deployed yet has no entry anywhere.
            our_entry=discovery.our_entry_on(readers.s3, entry_id, account) if existing else lambda _: None,
        )
    except OnboardingError as refused:
        if isinstance(refused, READ_REFUSED):
            raise
        plan.changes.append(Change("LogTarget", "the organization trail", Status.ACTION_REQUIRED, _refusal(refused)))
        return plan
    plan.discovered = {
        "ManagementAccountId": management_account_id,
        "OrganizationId": organization_id,
        "TrailArn": found.trail_arn,
        "Bucket": found.bucket,
        "TrailTopicArn": found.topic_arn or "(none)",
        "HomeRegion": found.home_region,
        "LogFilesUnder": found.record.log_root,
        "DeliveryMode": found.delivery_mode.value,
        "DeliveryReason": found.reason,
    }
    sizing = sizing or Sizing()
    plan.load = plan_load.size(
        readers.organizations,
        readers.key_account_organizations,
        readers.ec2,
        readers.s3,
        bucket=found.bucket,
        region=found.home_region or readers.region,
        mode=found.delivery_mode,
        accounts=sizing.accounts,
        quota=sizing.sns_publish_quota,
    )
    plan.changes.append(
        Change(plan_load.STEP, f"SNS publishes in {found.home_region}", plan.load.status, plan.load.detail)
    )
    if not parameters.log_bucket_name:
        plan.parameters["LogBucketName"], plan.sources["LogBucketName"] = found.bucket, "discovered"
    if not parameters.notification_prefix and found.notification_prefix:
        plan.parameters["NotificationPrefix"] = found.notification_prefix
        plan.sources["NotificationPrefix"] = "discovered"
    # The Discover step, as the deploy's apply runs it: the bucket's region and the trail's key.
    target = discovery.Target(
        found.bucket,
        account,
        readers.region,
        parameters.cloudtrail_key_arn,
        found.delivery_mode,
        found.reason,
        found.topic_arn,
        parameters.delivery_mode,
        found.record,
        found.notification_prefix,
    )
    try:
        discovered = discovery.discover(readers.organizations, readers.cloudtrail, readers.s3, target, Mode.APPLY)
    except OnboardingError as refused:
        if isinstance(refused, READ_REFUSED):
            raise
        plan.changes.append(Change("Discover", found.bucket, Status.ACTION_REQUIRED, _refusal(refused)))
        return plan
    key_arn, key_source = str(discovered.data["CloudTrailKeyArn"]), str(discovered.data["KeySource"])
    plan.discovered.update({"CloudTrailKeyArn": key_arn or "(none: SSE-S3)", "KeySource": key_source})
    if not parameters.cloudtrail_key_arn and key_arn:
        plan.parameters["CloudTrailKeyArn"], plan.sources["CloudTrailKeyArn"] = key_arn, "discovered"
    writable = found.delivery_mode is DeliveryMode.BUCKET_NOTIFICATION
    ownership_target = ownership.Target(found.bucket, account, parameters.fix_object_ownership, writable)
    plan.changes.append(object_ownership(readers.s3, ownership_target))
    if key_source == "unknown":
        plan.changes.append(Change(key_policy.STEP, "the trail's key", Status.ACTION_REQUIRED, discovered.detail))
    elif not key_arn:
        plan.changes.append(Change(key_policy.STEP, "no key", Status.OK, key_policy.not_encrypted().detail))
    else:
        key_target = key_policy.Target(
            key_arn,
            key_statement_sid(role_arn, key_arn),
            account,
            role_arn,
            readers.region,
            partition,
            stack_id=stack_id,
        )
        plan.changes.append(key_statement(readers, key_target, parameters.key_policy_delegate_arn))
    if found.delivery_mode is DeliveryMode.TRAIL_TOPIC:
        subscribed = existing is not None and subscribed_relay(readers, stack_name, found.topic_arn, partition)
        plan.changes.append(trail_subscription(found.topic_arn, account, subscribed))
    else:
        bucket_target = notification.Target(
            found.bucket,
            account,
            entry_id,
            topic_arn,
            found.notification_prefix,
            found.record.log_root,
            found.topic_arn,
        )
        plan.changes.append(bucket_entry(readers.s3, bucket_target))
    return plan


def object_ownership(s3: S3Client, target: ownership.Target) -> Change:
    """The Ownership step's own read-only check; its DRIFTED means the deploy would set it."""
    report = ownership.converge(s3, target, Mode.CHECK)
    if report.status is Status.DRIFTED:
        return Change(
            ownership.STEP,
            target.bucket,
            Status.CHANGED,
            f"{report.detail} (The deploy's apply does that, since FixObjectOwnership=true.)",
            (f"~ ObjectOwnership {report.data.get('ObjectOwnership')} -> {ownership.FIXED}",),
        )
    return Change(ownership.STEP, target.bucket, report.status, report.detail)


def bucket_entry(s3: S3Client, target: notification.Target) -> Change:
    """Our entry in the bucket's notification configuration: what the Notification step would write."""
    where = f"notification configuration of {target.bucket}"
    current = notification.read(s3, target)
    ours = notification.our_entry(target)
    others = [
        entry.get("Id", "(no Id)") for _, entry in notification.entries(current) if entry.get("Id") != target.entry_id
    ]
    kept = f"  {len(others)} other entries unchanged: {', '.join(map(str, others))}" if others else "  no other entries"
    try:
        # The step's own refusal, so the plan shows the deploy's words and fix.
        notification.refuse_overlap(current, target)
    except OnboardingError as refused:
        return Change(notification.STEP, where, Status.ACTION_REQUIRED, _refusal(refused), (f"+ {_entry(ours)}", kept))
    if notification.merge(current, ours) == current:
        return Change(notification.STEP, where, Status.OK, f"Our entry '{target.entry_id}' is there already.", (kept,))
    existing = notification.find(current, target.entry_id)
    sign = "~" if existing else "+"
    detail = (
        f"{'Replace' if existing else 'Add'} our s3:ObjectCreated:* entry for our topic; every other entry is "
        "written back exactly as read."
    )
    return Change(notification.STEP, where, Status.CHANGED, _shown(detail), (f"{sign} {_entry(ours)}", kept))


def subscribed_relay(readers: Readers, stack_name: str, topic_arn: str, partition: str) -> bool:
    """Whether an existing stack's relay queue is subscribed to the trail's topic already (False when either
    cannot be read: the plan then shows the subscription the deploy would make)."""
    if readers.sns is None:
        return False
    try:
        resource = readers.cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=RELAY_QUEUE)
        url = str(resource["StackResourceDetail"].get("PhysicalResourceId") or "")
        # A queue URL is https://sqs.<region>.amazonaws.com/<account>/<name>; its ARN has the same three parts.
        host, account, name = url.removeprefix("https://").split("/")[:3]
        queue_arn = f"arn:{partition}:sqs:{host.split('.')[1]}:{account}:{name}"
        pages = readers.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        return any(sub["Endpoint"] == queue_arn for page in pages for sub in page["Subscriptions"])
    except (ClientError, ValueError, IndexError, AttributeError):
        return False


def trail_subscription(topic_arn: str, account: str, subscribed: bool = False) -> Change:
    """trail-topic delivery subscribes the relay queue to the trail's topic; the bucket is not written."""
    if subscribed:
        return Change(notification.STEP, topic_arn, Status.OK, f"The relay queue is subscribed to {topic_arn} already.")
    owner = account_of(topic_arn)
    detail = (
        f"Subscribe the relay queue to {topic_arn} (raw delivery, with its dead-letter queue); the log bucket's "
        "notification configuration is not written."
    )
    if owner != account:
        detail += f" The topic is account {owner}'s: its policy must let account {account} call sns:Subscribe."
    return Change(notification.STEP, topic_arn, Status.CHANGED, detail, (f"+ subscription {KNOWN_AFTER_DEPLOY}",))


def key_statement(readers: Readers, target: key_policy.Target, delegate_arn: str) -> Change:
    """Our statement in the CloudTrail key's policy, as the KeyPolicy step would handle it.

    Where the policy can be read (the key is in this account, or --key-profile gives its account), the
    step's own edit and checks run on a copy of it. Otherwise a delegate adds it at deploy (only the
    stack's own roles may call it, so the plan does not), or, without one, the step says what to run in
    the key's account: the statement and its command."""
    key_account = key_policy.key_account(target.key_arn)
    kms = readers.kms if key_account == target.log_archive_account else readers.key_account_kms
    preview = edit_preview(kms, target) if kms is not None else None
    if preview is not None and (preview.status is not Status.CHANGED or key_account == target.log_archive_account):
        return preview
    added = preview.diff if preview else (f"+ {_statement(target)}",)
    if delegate_arn:
        # org/management.yaml's resource policy lets only the stack's KeyPolicy and Verify roles call the
        # delegate: a person's plan cannot ask it, and does not try.
        detail = (
            f"The delegate {delegate_arn} adds our statement at deploy, unless it is there already. Only this "
            "stack's KeyPolicy and Verify roles may call it, so the plan does not."
        )
        if preview is None:
            detail += (
                f" To run the policy's own checks (its size, deleted principals, repeated Sids) here, pass "
                f"--key-profile with a profile in account {key_account}: only that account can read the policy."
            )
        return Change(key_policy.STEP, target.key_arn, Status.CHANGED, _shown(detail), added)
    # No delegate and a key in another account: the step makes no call, and its detail holds the statement
    # to paste and the command, as the deploy's KeyPolicy step gives them.
    step = delegated.run(
        target,
        Mode.CHECK,
        delegate_arn="",
        local_kms=lambda: readers.kms,
        invoke=partial(clients.invoke_with, readers.lambda_),
    )
    return Change(key_policy.STEP, target.key_arn, step.status, _shown(step.detail), added[1:])


def edit_preview(kms: KMSClient, target: key_policy.Target) -> Change:
    """The KeyPolicy step's edit of the policy, made on a copy, with every check it makes before a write: the
    step's preflight itself."""
    try:
        # The step's own preflight (key_policy.preview): the same reads and checks, and no write.
        seen = key_policy.preview(kms, target, Mode.APPLY)
    except OnboardingError as refused:
        if isinstance(refused, READ_REFUSED):
            raise
        return Change(
            key_policy.STEP, target.key_arn, Status.ACTION_REQUIRED, _refusal(refused), (f"+ {_statement(target)}",)
        )
    policy, edit = seen.policy, seen.edit
    if edit is None:
        return Change(
            key_policy.STEP, target.key_arn, Status.OK, _shown(f"Our statement '{target.sid}' is there already.")
        )
    others = len(policy.elements) - len(policy.ours(target.sid))
    before, after = key_policy.size(policy.text), key_policy.size(edit.text)
    diff = (
        f"+ {_statement(target)}",
        f"  {others} other statements unchanged",
        f"  policy size {before} -> {after} bytes, of the {key_policy.MAX_POLICY_BYTES} KMS allows",
    )
    detail = (
        "Add our kms:Decrypt statement for the Expel role, through S3 only; every other statement stays as written."
    )
    if edit.note:
        detail += f" {edit.note}"
    return Change(key_policy.STEP, target.key_arn, Status.CHANGED, detail, diff)


def _statement(target: key_policy.Target) -> str:
    return _shown(json.dumps(key_policy.our_statement(target), separators=(",", ":")))


def _refusal(refused: OnboardingError) -> str:
    """A refusal as the deploy would report it: the error's name (as Step Functions shows it) and its message."""
    return _shown(f"{type(refused).__name__}: {refused}")


def _entry(entry: dict[str, Any]) -> str:
    return _shown(json.dumps(entry, separators=(",", ":")))


def _shown(text: str) -> str:
    """text with the stand-ins for what only the deploy creates written as such."""
    return text.replace(PLACEHOLDER_ID, SHOWN_ID).replace(PLACEHOLDER_TOPIC, KNOWN_AFTER_DEPLOY)
