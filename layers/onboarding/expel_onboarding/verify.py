"""The last step: confirm that Workbench can actually read the logs.

After a write (apply, repair) it re-reads what the earlier steps changed, and checks what no earlier
step owns: the raw-delivery subscription, the Expel role's trust, our statement in the CloudTrail key's
policy, and, where IAM's policy simulator answers, whether the role's own policies let it GetObject,
ReceiveMessage and Decrypt with the request context those calls really carry (see SIMULATOR below).
A read-only check keeps to what CloudFormation cannot see: the role only when the org StackSet made
it (the subscription and a stack-made role are stack resources, which aws cloudformation
detect-stack-drift reports), and asks the policy simulator too, so that a check never says OK without
evidence that Workbench can read.

How a Verify problem shows, everywhere:
- After a write (apply, repair) it is ACTION_REQUIRED, with each problem and its fix in the detail.
  Verify writes nothing, so no re-run of the workflow can fix what it finds: a person must act. The run
  still succeeds; its summary lists Verify under ActionRequired, the stack output ActionRequired names
  it, and the CLI exits 3 (cli.EXIT_ACTION_REQUIRED).
- In a read-only check it is DRIFTED, as every step reports a change since the last write: the CLI
  exits 2 and the drift alarm counts it.
- Verify never reports FAILED. That status belongs to a step that raised, which fails the run.
- Verify never says OK without evidence: when the policy simulator does not answer, that is a problem
  like any other (after a write, ACTION_REQUIRED), with the simulator's reason and the fix
  (Data.PoliciesSimulated is false).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from expel_onboarding import key_policy, notification
from expel_onboarding.errors import NotSimulated, OnboardingError, error_code, error_message
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_iam.type_defs import EvaluationResultTypeDef
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient

STEP = "Verify"
ALLOWED = "allowed"
# From the most to the least restrictive, as the simulator ranks its decisions.
DECISIONS = ("explicitDeny", "implicitDeny", ALLOWED)
# Any object under the folder CloudTrail writes its log files in (the stack's record of the trail says which,
# <S3KeyPrefix>/AWSLogs/<o-id>/); the role's grant names the bucket's objects.
LOG_OBJECT = "AWSLogs/"


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
    log_root: str = LOG_OBJECT


def subscription_problems(sns: SNSClient, target: Target) -> list[str]:
    try:
        attributes = sns.get_subscription_attributes(SubscriptionArn=target.subscription_arn)["Attributes"]
    except ClientError as exc:
        if error_code(exc) == "NotFound":
            return [f"The subscription {target.subscription_arn} is gone: redeploy the stack to recreate it."]
        raise
    problems = []
    if attributes.get("Endpoint") != target.queue_arn:
        problems.append(
            f"The subscription delivers to {attributes.get('Endpoint')}, not {target.queue_arn}: redeploy the stack "
            "to restore it."
        )
    if attributes.get("RawMessageDelivery") != "true":
        problems.append(
            "Raw message delivery is off, so Workbench would get SNS envelopes instead of S3 events: turn it on "
            f"with aws sns set-subscription-attributes --subscription-arn {target.subscription_arn} "
            "--attribute-name RawMessageDelivery --attribute-value true."
        )
    return problems


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _trusts_expel(statement: dict[str, Any], target: Target) -> bool:
    principal = statement.get("Principal", {})
    principals = _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
    # StringEquals with a list matches any value in it, so a list that holds ours lets Workbench in.
    external_ids = _as_list(statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId", []))
    return (
        statement.get("Effect") == "Allow"
        and target.expel_principal_arn in principals
        and "sts:AssumeRole" in _as_list(statement.get("Action", []))
        and target.external_id in external_ids
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
            f"{target.external_id}: Workbench cannot assume it. Redeploy what made the role (the org StackSet, or "
            "this stack with CreateExpelRole=true) to restore its trust."
        ]
    return []


# SIMULATOR. IAM's policy simulator (SimulatePrincipalPolicy) pairs every action of a call with every
# resource of it and applies the call's one set of ContextEntries to all of them. A condition key the
# call does not supply is absent, and a condition on an absent key does not match, so a conditioned Allow
# comes back implicitDeny. The role's two kms:Decrypt grants carry kms:ViaService conditions (template.yaml,
# DecryptObjectNotifications and DecryptCloudTrailLogObjects), so each call carries exactly the context
# its real requests carry:
#   1. s3:GetObject on a log object and sqs:ReceiveMessage on the queue, with no context;
#   2. kms:Decrypt on the notification key, via sqs.<region>.amazonaws.com (SQS decrypts for ReceiveMessage);
#   3. kms:Decrypt on the CloudTrail key, via s3.<region>.amazonaws.com (S3 decrypts for GetObject), with
#      aws:ResourceAccount, the key's account, which every request carries (IAM User Guide, "AWS global
#      condition context keys"); the grant for a key found at run time tests it. Not made for SSE-S3 logs.
# kms:ViaService holds one value per request and the two Decrypts need different ones, and GetObject and
# ReceiveMessage carry none: fewer calls would simulate some request with a context it does not have.
# The simulator evaluates the role's identity policies (and SCPs), never a KMS key policy: it does not
# simulate resource policies for a role (SimulatePrincipalPolicy, ResourcePolicy), and supports only those
# of S3, SQS, SNS and Glacier. So the CloudTrail key's own policy, in another account, is checked by
# reading our statement in it (key_problems), not by the simulator.
# Sources (AWS documentation):
# - IAM API Reference, SimulatePrincipalPolicy:
#   https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
# - IAM API Reference, ContextEntry (ContextKeyName, ContextKeyValues, ContextKeyType):
#   https://docs.aws.amazon.com/IAM/latest/APIReference/API_ContextEntry.html
# - IAM API Reference, EvaluationResult (one result per action, per-resource ResourceSpecificResults):
#   https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
# - IAM User Guide, Testing IAM policies with the IAM policy simulator ("If you don't provide a value
#   for a context key, the simulation still runs. But the results might not be reliable"):
#   https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
# - IAM User Guide, IAM JSON policy elements: Condition operators ("If the key that you specify in a
#   policy condition is not present in the request context, the values do not match"):
#   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html


@dataclass(frozen=True)
class Simulation:
    """Requests whose real counterparts carry the same request context: one simulator call."""

    requests: tuple[tuple[str, str], ...]  # (action, resource ARN)
    via_service: str = ""
    # The account that owns the resource, as its real request carries it (aws:ResourceAccount): the grant on a
    # CloudTrail key discovered at run time tests it.
    resource_account: str = ""

    def parameters(self, role_arn: str) -> dict[str, Any]:
        parameters: dict[str, Any] = {
            "PolicySourceArn": role_arn,
            "ActionNames": list(dict.fromkeys(action for action, _ in self.requests)),
            "ResourceArns": list(dict.fromkeys(resource for _, resource in self.requests)),
        }
        context = [("kms:ViaService", self.via_service), ("aws:ResourceAccount", self.resource_account)]
        entries = [
            {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
            for key, value in context
            if value
        ]
        if entries:
            parameters["ContextEntries"] = entries
        return parameters

    def problems(self, results: Sequence[EvaluationResultTypeDef], role_arn: str) -> list[str]:
        problems = []
        for action, resource in self.requests:
            cross_account = _arn_field(resource, 4) not in ("", _arn_field(role_arn, 4))
            decision, missing = decision_for(results, action, resource, cross_account)
            if decision != ALLOWED:
                through = f" through {self.via_service}" if self.via_service else ""
                unsupplied = (
                    f"; its policies also test {', '.join(missing)}, which Verify does not supply" if missing else ""
                )
                problems.append(f"The Expel role may not {action} on {resource}{through} ({decision}{unsupplied}).")
        return problems


def _arn_field(arn: str, index: int) -> str:
    fields = arn.split(":")
    return fields[index] if len(fields) > index else ""


def simulations(target: Target, bucket: str, key_arn: str) -> list[Simulation]:
    """The simulator calls that answer for Workbench's reads, one per request context (see SIMULATOR)."""
    # The queue is the stack's, in the stack's region, which is the bucket's and the CloudTrail key's.
    partition, region = _arn_field(target.role_arn, 1), _arn_field(target.queue_arn, 3)
    found = [
        Simulation(
            (
                ("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{target.log_root}"),
                ("sqs:ReceiveMessage", target.queue_arn),
            )
        ),
        Simulation((("kms:Decrypt", target.notification_key_arn),), f"sqs.{region}.amazonaws.com"),
    ]
    if key_arn:
        found.append(Simulation((("kms:Decrypt", key_arn),), f"s3.{region}.amazonaws.com", _arn_field(key_arn, 4)))
    return found


def decision_for(
    results: Sequence[EvaluationResultTypeDef], action: str, resource: str, cross_account: bool = False
) -> tuple[str, list[str]]:
    """The simulator's decision for one action on one resource, and the context keys it lacked."""
    mine = [result for result in results if result["EvalActionName"] == action]
    for result in mine:
        for specific in result.get("ResourceSpecificResults", []):
            if specific["EvalResourceName"] != resource:
                continue
            decision: str = specific["EvalResourceDecision"]
            details = set(specific.get("EvalDecisionDetails", {}).values())
            # Across accounts the simulator also wants the resource's policy, which it cannot read for a
            # KMS key (key_problems checks that side). Its details per policy type still show whether the
            # role's own policies allow: an allow there and no explicit deny anywhere is the role's answer.
            if cross_account and decision == "implicitDeny" and ALLOWED in details and "explicitDeny" not in details:
                decision = ALLOWED
            return decision, list(specific.get("MissingContextValues", []))
    if not mine:
        return "not evaluated", []
    # No answer for this resource alone: the top-level decision is the most restrictive over all the
    # call's resources, so it can only err towards reporting a problem.
    decision = min((result["EvalDecision"] for result in mine), key=_restrictiveness)
    return decision, sorted({key for result in mine for key in result.get("MissingContextValues", [])})


def _restrictiveness(decision: str) -> int:
    return DECISIONS.index(decision) if decision in DECISIONS else 0


def permission_problems(iam: IAMClient, target: Target, bucket: str, key_arn: str) -> list[str]:
    """What IAM's policy simulator says the role may not do; NotSimulated, with its reason, when it does not
    answer, since Verify never reports OK without that evidence."""
    problems: list[str] = []
    for simulation in simulations(target, bucket, key_arn):
        try:
            results = iam.simulate_principal_policy(**simulation.parameters(target.role_arn))["EvaluationResults"]
        except (ClientError, BotoCoreError, NotImplementedError) as exc:
            # Not every partition or endpoint offers it, and it needs iam:SimulatePrincipalPolicy, which a
            # service control policy may deny. A throttle is not here: it raises AwsThrottled, and the step retries.
            reason = error_message(exc) if isinstance(exc, ClientError) else str(exc) or type(exc).__name__
            raise NotSimulated(reason) from exc
        problems += simulation.problems(results, target.role_arn)
    return problems


def not_simulated(reason: str, target: Target) -> str:
    return (
        f"Workbench's access was not confirmed: IAM's policy simulator did not answer ({reason}). Let this stack's "
        f"Verify role call iam:SimulatePrincipalPolicy on {target.role_arn} (a service control policy may deny "
        "it), then run expel-onboarding repair."
    )


def key_problems(check: Callable[[], StepReport] | None, target: key_policy.Target) -> list[str]:
    """Our statement in the CloudTrail key's policy, checked from the key's account (here, or through the
    management account's key-policy delegate): the simulator cannot see it."""
    cannot = f"Our statement in the policy of {target.key_arn} cannot be checked:"
    if check is None:
        return [
            f"{cannot} the key is in another account and no KeyPolicyDelegateArn was given. Set KeyPolicyDelegateArn "
            "(the org/ template creates the delegate) so that Verify can confirm Workbench may decrypt the logs."
        ]
    try:
        report = check()
    except (ClientError, OnboardingError) as exc:
        # A refusal, a missing key or a refused delegate call arrives as our errors (AccessNotGranted,
        # ExplicitDeny, KeyNotUsable, DelegateRefused); each is a finding to report, not a crash of the step.
        return [f"{cannot} {exc}"]
    if report.status is Status.OK:
        return []
    if report.status is Status.DRIFTED:
        return [f"Our statement is not in the policy of {target.key_arn}: rerun repair, or add it there by hand."]
    return [f"{cannot} {report.detail}"]


def verify(
    *,
    sns: SNSClient,
    iam: IAMClient,
    s3: S3Client,
    check_key: Callable[[], StepReport] | None,
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
            problems.append(f"Our notification entry is not on {notification_target.bucket}: run repair to restore it.")
    # The key statement matters in every delivery mode: Workbench decrypts each log object it reads.
    if mode.writes and key_target is not None:
        problems += key_problems(check_key, key_target)
    simulated = None
    # Every run asks (a check too): a check that only looked at what it owns would say OK without evidence.
    if target.simulate:
        key_arn = key_target.key_arn if key_target else ""
        try:
            simulated = permission_problems(iam, target, notification_target.bucket, key_arn)
        except NotSimulated as unanswered:
            problems.append(not_simulated(str(unanswered), target))
        problems += simulated or []
    data = {"PoliciesSimulated": simulated is not None}
    if problems:
        # The rule in the module docstring: drift in a check, a person's action after a write.
        status = Status.DRIFTED if mode is Mode.CHECK else Status.ACTION_REQUIRED
        return StepReport(STEP, status, " ".join(problems), data)
    if mode.writes:
        detail = f"The subscription delivers raw messages to the queue and {target.role_name} trusts Expel."
        if key_target is not None:
            detail += f" Our statement is in the policy of {key_target.key_arn}."
        if simulated is not None:
            detail += " IAM's policy simulator allows the role's reads, with the context each request carries."
    else:
        detail = (
            f"{target.role_name} (from the org StackSet) trusts Expel."
            if not target.role_in_stack
            else "The stack's own resources are CloudFormation drift detection's to check."
        )
        if simulated is not None:
            detail += " IAM's policy simulator allows the role's reads, with the context each request carries."
    return StepReport(STEP, Status.OK, detail, data)
