"""Gap: moto does not evaluate service control policies.

moto stores SCPs (CreatePolicy, AttachPolicy, EnablePolicyType) but never applies them, so a landing
zone 4.0 log bucket that AWS guards with CT.S3.PV.8 accepts every write. This module emulates the
part of SCP evaluation the onboarding meets, for S3 and SNS requests, in the in-process mock and in
the local AWS server alike (one hook: moto's ActionAuthenticatorMixin._authenticate_and_authorize_action,
which every S3 operation and every query-protocol action such as SNS's passes before it runs).

What is emulated:
- the SCPs that reach the calling account: attached to it, to each OU above it, or to the root, while
  SERVICE_CONTROL_POLICY is enabled on the root; not in the management account, which SCPs never
  restrict;
- their Deny statements: Action or NotAction (IAM wildcards, case-insensitive), Resource or NotResource
  (IAM wildcards within each ARN component), and conditions on aws:PrincipalArn and aws:PrincipalAccount
  with Arn(Not)Like, Arn(Not)Equals, String(Not)Like, String(Not)Equals and their IfExists forms;
- the refusal, as AWS words it: HTTP 403, AccessDenied (S3) or AuthorizationError (SNS), "User: <caller>
  is not authorized to perform: <action> on resource: <arn> with an explicit deny in a service control
  policy: <policy arn>" (S3 user guide, "Troubleshoot access denied (403 Forbidden) errors":
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html; IAM user guide,
  "Access denied error messages":
  https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).

What is not: Allow lists (an account without FullAWSAccess is not implicitly denied), other condition
keys (absent from the request, as IAM treats a key it does not have), other services, and the
service-linked-role exemption. The caller is worked out from the request's access key: a role session
from moto's STS is arn:aws:sts::<account>:assumed-role/<role>/<session>, matched as its role ARN (as IAM
sets aws:PrincipalArn); an IAM user's key is that user; anything else is the account's root.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from moto.organizations.models import organizations_backends

from localaws.callers import caller_of
from localaws.policy_language import Statement, applies, statements
from localaws.refusals import refuse
from localaws.s3_actions import s3_action

SCP = "SERVICE_CONTROL_POLICY"
EXPLICIT_DENY = "with an explicit deny in a service control policy"
EMULATED_SERVICES = frozenset({"s3", "sns"})


def authorizing(original: Callable[..., None]) -> Callable[..., None]:
    """moto's authorization hook, evaluating the SCPs of the calling account for S3 and SNS requests first
    (localaws.replacements applies it as the gap service-control-policies).

    Cheap where no SCP denies anything: a request of another service, or of an account outside an
    organization, costs one set lookup; an account whose SCPs hold no Deny, a walk up its OUs."""

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if self.service_name in EMULATED_SERVICES:
            _refuse_if_denied(self, resource)
        original(self, iam_request_cls, resource)

    return authorize


@dataclass(frozen=True)
class Denial:
    policy_arn: str
    statement: Statement


def denials_for(account_id: str) -> list[Denial]:
    """The Deny statements of every SCP in effect for an account: its own, its OUs' and the root's."""
    membership = organizations_backends.master_accounts.get(account_id)
    if membership is None:
        return []
    master, partition = membership
    organizations = organizations_backends[master][partition]
    if organizations.org is None:  # a stale membership, left by a reset
        return []
    units: dict[str | None, Any] = {ou.id: ou for ou in organizations.ou}
    root = units.get(organizations.org.root_id)
    if root is None or not any(kind["Type"] == SCP for kind in root.policy_types):
        return []  # without the policy type enabled on the root, no SCP is in effect
    account = next((a for a in organizations.accounts if a.id == account_id), None)
    if account is None:
        return []
    targets: list[Any] = [account]
    parent_id: str | None = account.parent_id
    while parent_id in units:
        targets.append(units[parent_id])
        parent_id = units[parent_id].parent_id
    return [
        Denial(policy.arn, statement)
        for target in targets
        for policy in target.attached_policies
        if policy.type == SCP
        for statement in statements(policy.content, "Deny")
    ]


def sns_resource(response: Any, operation: str) -> str:
    """The ARN an SNS action is authorized on: the subscription for subscription-level actions (it starts
    with its topic's ARN), the topic for the others."""
    for parameter in ("SubscriptionArn", "TopicArn", "ResourceArn", "TargetArn"):
        value = response._get_param(parameter)
        if value:
            return str(value)
    name = response._get_param("Name") if operation == "CreateTopic" else None
    if name:
        return f"arn:{response.partition}:sns:{response.region}:{response.current_account}:{name}"
    return "*"


def _refuse_if_denied(response: Any, resource: str) -> None:
    account = response.current_account
    denials = denials_for(account)
    if not denials:
        return
    if response.service_name == "s3":
        if resource.endswith(":::*"):
            return
        action = s3_action(response.method, resource, response.parsed_url.query)
        if action is None:
            return
        code, shown_action, shown_resource = "AccessDenied", action, f'"{resource}"'
    else:
        operation = response._get_action()
        action = f"sns:{operation}"
        resource = sns_resource(response, operation)
        code, shown_action, shown_resource = "AuthorizationError", f"SNS:{operation}", resource
    caller = cache(lambda: caller_of(response.access_key, account, response.partition))

    def context() -> dict[str, str]:
        return {"aws:principalarn": caller().principal_arn, "aws:principalaccount": account}

    denial = next((d for d in denials if applies(d.statement, action, resource, context)), None)
    if denial is None:
        return
    message = (
        f"User: {caller().arn} is not authorized to perform: {shown_action} on resource: {shown_resource} "
        f"{EXPLICIT_DENY}: {denial.policy_arn}"
    )
    refuse(response, code, message)
