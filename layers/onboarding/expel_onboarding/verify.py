"""The last step: confirm that Workbench can actually read the logs.

After a write (apply, repair) it re-reads what the earlier steps changed, and checks
what no earlier step owns: the raw-delivery subscription and the Expel role's trust, and, where IAM's
policy simulator is available, whether the role may GetObject, ReceiveMessage and Decrypt (one call).
A read-only check keeps to what CloudFormation cannot see: the role only when the org StackSet made
it; the subscription and a stack-made role are stack resources (aws cloudformation
detect-stack-drift reports them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from expel_onboarding import key_policy, notification
from expel_onboarding.errors import error_code
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient

STEP = "Verify"


@dataclass(frozen=True)
class Target:
    subscription_arn: str
    queue_arn: str
    role_name: str
    role_arn: str
    expel_principal_arn: str
    external_id: str
    notification_key_arn: str
    role_in_stack: bool = True
    simulate: bool = True


def subscription_problems(sns: SNSClient, target: Target) -> list[str]:
    try:
        attributes = sns.get_subscription_attributes(SubscriptionArn=target.subscription_arn)["Attributes"]
    except ClientError as exc:
        if error_code(exc) == "NotFound":
            return [f"The subscription {target.subscription_arn} is gone: redeploy the stack to recreate it."]
        raise
    problems = []
    if attributes.get("Endpoint") != target.queue_arn:
        problems.append(f"The subscription delivers to {attributes.get('Endpoint')}, not {target.queue_arn}.")
    if attributes.get("RawMessageDelivery") != "true":
        problems.append("Raw message delivery is off, so Workbench would get SNS envelopes instead of S3 events.")
    return problems


def _trusts_expel(statement: dict[str, Any], target: Target) -> bool:
    principal = statement.get("Principal", {})
    principals = principal.get("AWS", []) if isinstance(principal, dict) else []
    actions = statement.get("Action", [])
    external_ids = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
    return (
        statement.get("Effect") == "Allow"
        and target.expel_principal_arn in ([principals] if isinstance(principals, str) else principals)
        and "sts:AssumeRole" in ([actions] if isinstance(actions, str) else actions)
        and external_ids in (target.external_id, [target.external_id])
    )


def role_problems(iam: IAMClient, target: Target) -> list[str]:
    try:
        role = iam.get_role(RoleName=target.role_name)["Role"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            missing = f"The Expel role {target.role_name} does not exist:"
            return [f"{missing} deploy the org StackSet, or set CreateExpelRole=true."]
        raise
    document: Any = role.get("AssumeRolePolicyDocument", {})
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if not any(_trusts_expel(s, target) for s in statements):
        return [
            f"The Expel role {target.role_name} does not trust {target.expel_principal_arn} with external id "
            f"{target.external_id}: Workbench cannot assume it."
        ]
    return []


def permission_problems(iam: IAMClient, target: Target, bucket: str, key_arn: str) -> list[str] | None:
    """What IAM's policy simulator says the role may not do; None where the simulator is unavailable."""
    wanted = {
        "s3:GetObject": f"arn:aws:s3:::{bucket}/AWSLogs/",
        "sqs:ReceiveMessage": target.queue_arn,
        "kms:Decrypt": key_arn or target.notification_key_arn,
    }
    try:
        results = iam.simulate_principal_policy(
            PolicySourceArn=target.role_arn, ActionNames=list(wanted), ResourceArns=sorted(set(wanted.values()))
        )["EvaluationResults"]
    except (ClientError, BotoCoreError, NotImplementedError):
        # The simulator only confirms: not every partition or endpoint offers it, and it needs
        # iam:SimulatePrincipalPolicy. Without an answer, verify says it did not simulate.
        return None
    problems = []
    for result in results:
        resource = wanted.get(result["EvalActionName"])
        decisions = {
            r["EvalResourceName"]: r["EvalResourceDecision"] for r in result.get("ResourceSpecificResults", [])
        }
        decision = decisions.get(resource or "", result["EvalDecision"])
        if decision != "allowed":
            problems.append(f"The Expel role may not {result['EvalActionName']} on {resource} ({decision}).")
    return problems


def key_problems(kms: Callable[[], KMSClient] | None, target: key_policy.Target) -> list[str]:
    if kms is None:
        return [f"Our statement in the policy of {target.key_arn} cannot be checked: no KeyPolicyRoleArn."]
    try:
        policy = key_policy.read(kms(), target)
    except ClientError as exc:
        return [f"Our statement in the policy of {target.key_arn} cannot be checked: {exc}"]
    if key_policy.merge(policy, key_policy.our_statement(target)) != policy:
        return [f"Our statement is not in the policy of {target.key_arn}."]
    return []


def verify(
    *,
    sns: SNSClient,
    iam: IAMClient,
    s3: S3Client,
    kms: Callable[[], KMSClient] | None,
    target: Target,
    notification_target: notification.Target,
    key_target: key_policy.Target | None,
    mode: Mode,
    bucket_entry_expected: bool = True,
) -> StepReport:
    if mode is Mode.REMOVE:
        return StepReport(STEP, Status.OK, "Nothing to verify after removal.", {})
    problems: list[str] = []
    # A read-only check looks at what only we can see: the subscription, and a role the stack
    # created, are declared stack resources, whose drift CloudFormation's own drift detection shows.
    if mode.writes:
        problems += subscription_problems(sns, target)
    if mode.writes or not target.role_in_stack:
        problems += role_problems(iam, target)
    if mode.writes and bucket_entry_expected:
        config = notification.read(s3, notification_target)
        ours = notification.find(config, notification_target.entry_id)
        if ours is None or not notification.equivalent(ours, notification.our_entry(notification_target)):
            problems.append(f"Our notification entry is not on {notification_target.bucket}.")
        if key_target is not None:
            problems += key_problems(kms, key_target)
    simulated = None
    if target.simulate and mode.writes:
        key_arn = key_target.key_arn if key_target else ""
        simulated = permission_problems(iam, target, notification_target.bucket, key_arn)
        problems += simulated or []
    data = {"PoliciesSimulated": simulated is not None}
    if problems:
        status = Status.DRIFTED if mode is Mode.CHECK else Status.FAILED
        return StepReport(STEP, status, " ".join(problems), data)
    simulated_note = " The policy simulator confirms the role's access." if simulated is not None else ""
    if mode.writes:
        detail = f"The subscription delivers raw messages to the queue and {target.role_name} trusts Expel."
    elif not target.role_in_stack:
        detail = f"{target.role_name} (from the org StackSet) trusts Expel."
    else:
        detail = "Nothing outside the stack to verify; CloudFormation drift detection covers its own resources."
    return StepReport(STEP, Status.OK, detail + simulated_note, data)
