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

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from unittest import mock
from urllib.parse import parse_qs

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends
from moto.sts.models import sts_backends
from werkzeug.exceptions import HTTPException

SCP = "SERVICE_CONTROL_POLICY"
EXPLICIT_DENY = "with an explicit deny in a service control policy"
EMULATED_SERVICES = frozenset({"s3", "sns"})


@contextmanager
def service_control_policies() -> Iterator[None]:
    """Evaluate the SCPs of the calling account for S3 and SNS requests, for as long as the context lasts.

    Cheap where no SCP denies anything: a request of another service, or of an account outside an
    organization, costs one set lookup; an account whose SCPs hold no Deny, a walk up its OUs."""
    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if self.service_name in EMULATED_SERVICES:
            _refuse_if_denied(self, resource)
        original(self, iam_request_cls, resource)

    with mock.patch.object(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorize):
        yield


# -- the SCPs that reach an account ---------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key, values)


@dataclass(frozen=True)
class Denial:
    policy_arn: str
    statement: Statement


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@lru_cache(maxsize=256)
def deny_statements(content: str) -> tuple[Statement, ...]:
    """The Deny statements of an SCP document (parsed once per distinct text)."""
    document = json.loads(content)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return tuple(
        Statement(
            sid=str(statement.get("Sid", "")),
            actions=_listed(statement.get("Action")),
            not_actions=_listed(statement.get("NotAction")),
            resources=_listed(statement.get("Resource")),
            not_resources=_listed(statement.get("NotResource")),
            conditions=tuple(
                (operator, key, _listed(values))
                for operator, keys in statement.get("Condition", {}).items()
                for key, values in keys.items()
            ),
        )
        for statement in statements
        if statement.get("Effect") == "Deny"
    )


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
        for statement in deny_statements(policy.content)
    ]


# -- matching, with IAM's wildcards ---------------------------------------------------------------


@lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """IAM's ArnLike: each of the six colon-separated components is matched on its own, with * and ?."""
    if pattern == "*":
        return True
    patterns, values = pattern.split(":", 5), value.split(":", 5)
    return len(patterns) == len(values) and all(like(p, v) for p, v in zip(patterns, values, strict=True))


def action_matches(statement: Statement, action: str) -> bool:
    if statement.actions:
        return any(like(pattern, action, ignore_case=True) for pattern in statement.actions)
    return not any(like(pattern, action, ignore_case=True) for pattern in statement.not_actions)


def resource_matches(statement: Statement, resource: str) -> bool:
    if statement.resources:
        return any(arn_like(pattern, resource) for pattern in statement.resources)
    return not any(arn_like(pattern, resource) for pattern in statement.not_resources)


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "stringequals": lambda pattern, value: pattern == value,
    "stringlike": like,
    "arnequals": lambda pattern, value: pattern == value,
    "arnlike": arn_like,
}


def condition_holds(operator: str, key: str, values: tuple[str, ...], context: dict[str, str]) -> bool:
    name = operator.lower()
    if_exists = name.endswith("ifexists")
    name = name.removesuffix("ifexists")
    negated = "not" in name
    test = _OPERATORS.get(name.replace("not", ""))
    if test is None:
        return False  # an operator we do not emulate never makes a Deny apply
    value = context.get(key.lower())
    if value is None:
        # IAM: a key absent from the request fails a positive test, passes a negated or IfExists one.
        return if_exists or negated
    matched = any(test(pattern, value) for pattern in values)
    return not matched if negated else matched


def applies(statement: Statement, action: str, resource: str, context: Callable[[], dict[str, str]]) -> bool:
    if not action_matches(statement, action) or not resource_matches(statement, resource):
        return False
    if not statement.conditions:
        return True
    keys = context()
    return all(condition_holds(operator, key, values, keys) for operator, key, values in statement.conditions)


# -- the request ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    arn: str  # as the error message names it
    principal_arn: str  # as aws:PrincipalArn names it
    account: str


def caller_of(access_key: str, account: str, partition: str) -> Caller:
    key = iam_backends[account][partition].access_keys.get(access_key)
    if key is not None and key.role_arn:
        session = next(
            (s for s in sts_backends[account][partition].assumed_roles if s.access_key_id == access_key), None
        )
        role_name = key.role_arn.split("/")[-1]
        name = session.session_name if session is not None else access_key
        return Caller(f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{name}", key.role_arn, account)
    if key is not None and key.user_name:
        user = iam_backends[account][partition].get_user(key.user_name)
        return Caller(user.arn, user.arn, account)
    root = f"arn:{partition}:iam::{account}:root"
    return Caller(root, root, account)


# S3 API operations to the IAM actions that authorize them (S3 user guide, "Required permissions for
# Amazon S3 API operations"), by level (bucket or object), HTTP method and subresource.
_S3_BUCKET: dict[str, tuple[tuple[str, str], ...]] = {
    "PUT": (
        ("notification", "s3:PutBucketNotification"),
        ("ownershipControls", "s3:PutBucketOwnershipControls"),
        ("policy", "s3:PutBucketPolicy"),
        ("lifecycle", "s3:PutLifecycleConfiguration"),
        ("logging", "s3:PutBucketLogging"),
        ("encryption", "s3:PutEncryptionConfiguration"),
        ("tagging", "s3:PutBucketTagging"),
        ("versioning", "s3:PutBucketVersioning"),
        ("acl", "s3:PutBucketAcl"),
        ("cors", "s3:PutBucketCORS"),
        ("website", "s3:PutBucketWebsite"),
        ("publicAccessBlock", "s3:PutBucketPublicAccessBlock"),
        ("replication", "s3:PutReplicationConfiguration"),
        ("object-lock", "s3:PutBucketObjectLockConfiguration"),
        ("accelerate", "s3:PutAccelerateConfiguration"),
        ("requestPayment", "s3:PutBucketRequestPayment"),
        ("inventory", "s3:PutInventoryConfiguration"),
        ("intelligent-tiering", "s3:PutIntelligentTieringConfiguration"),
        ("metrics", "s3:PutMetricsConfiguration"),
        ("analytics", "s3:PutAnalyticsConfiguration"),
        ("", "s3:CreateBucket"),
    ),
    "DELETE": (
        ("ownershipControls", "s3:PutBucketOwnershipControls"),
        ("policy", "s3:DeleteBucketPolicy"),
        ("lifecycle", "s3:PutLifecycleConfiguration"),
        ("encryption", "s3:PutEncryptionConfiguration"),
        ("tagging", "s3:PutBucketTagging"),
        ("cors", "s3:PutBucketCORS"),
        ("website", "s3:DeleteBucketWebsite"),
        ("publicAccessBlock", "s3:PutBucketPublicAccessBlock"),
        ("replication", "s3:PutReplicationConfiguration"),
        ("inventory", "s3:PutInventoryConfiguration"),
        ("intelligent-tiering", "s3:PutIntelligentTieringConfiguration"),
        ("metrics", "s3:PutMetricsConfiguration"),
        ("analytics", "s3:PutAnalyticsConfiguration"),
        ("", "s3:DeleteBucket"),
    ),
    "GET": (
        ("notification", "s3:GetBucketNotification"),
        ("ownershipControls", "s3:GetBucketOwnershipControls"),
        ("policyStatus", "s3:GetBucketPolicyStatus"),
        ("policy", "s3:GetBucketPolicy"),
        ("lifecycle", "s3:GetLifecycleConfiguration"),
        ("logging", "s3:GetBucketLogging"),
        ("encryption", "s3:GetEncryptionConfiguration"),
        ("tagging", "s3:GetBucketTagging"),
        ("versioning", "s3:GetBucketVersioning"),
        ("acl", "s3:GetBucketAcl"),
        ("cors", "s3:GetBucketCORS"),
        ("website", "s3:GetBucketWebsite"),
        ("publicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("replication", "s3:GetReplicationConfiguration"),
        ("object-lock", "s3:GetBucketObjectLockConfiguration"),
        ("location", "s3:GetBucketLocation"),
        ("versions", "s3:ListBucketVersions"),
        ("uploads", "s3:ListBucketMultipartUploads"),
        ("", "s3:ListBucket"),
    ),
    "HEAD": (("", "s3:ListBucket"),),
    "POST": (("delete", "s3:DeleteObject"), ("", "s3:PutObject")),
}
_S3_OBJECT: dict[str, tuple[tuple[str, str], ...]] = {
    "PUT": (
        ("tagging", "s3:PutObjectTagging"),
        ("acl", "s3:PutObjectAcl"),
        ("retention", "s3:PutObjectRetention"),
        ("legal-hold", "s3:PutObjectLegalHold"),
        ("", "s3:PutObject"),
    ),
    "GET": (
        ("tagging", "s3:GetObjectTagging"),
        ("acl", "s3:GetObjectAcl"),
        ("attributes", "s3:GetObjectAttributes"),
        ("uploadId", "s3:ListMultipartUploadParts"),
        ("", "s3:GetObject"),
    ),
    "HEAD": (("", "s3:GetObject"),),
    "DELETE": (
        ("tagging", "s3:DeleteObjectTagging"),
        ("uploadId", "s3:AbortMultipartUpload"),
        ("versionId", "s3:DeleteObjectVersion"),
        ("", "s3:DeleteObject"),
    ),
    "POST": (("restore", "s3:RestoreObject"), ("select", "s3:GetObject"), ("", "s3:PutObject")),
}


def s3_action(method: str, resource: str, query: str) -> str | None:
    """The IAM action of an S3 request, from its method, its resource (bucket or object) and its query."""
    is_object = "/" in resource.split(":::", 1)[-1]
    table = (_S3_OBJECT if is_object else _S3_BUCKET).get(method.upper(), ())
    present = parse_qs(query, keep_blank_values=True)
    return next((action for subresource, action in table if not subresource or subresource in present), None)


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


class ExplicitDeny(ServiceException):
    """The error a service answers when an SCP denies the request."""


class Refused(HTTPException):
    """A refusal in the service's own error format, raised where moto authorizes a request (S3 and the
    query protocols both turn an HTTPException raised there into their response)."""

    def __init__(self, status: int, headers: dict[str, Any], body: str | bytes) -> None:
        super().__init__(description=body if isinstance(body, str) else body.decode("utf-8"))
        self.code = status
        self._headers = {k: str(v) for k, v in headers.items() if k.lower() not in ("status", "content-length")}

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return self.description or ""

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return list(self._headers.items())


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
    _status, headers, body = response.serialized(ActionResult(ExplicitDeny(code, message)))
    raise Refused(403, headers, body)
