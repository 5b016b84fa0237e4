"""Gap: moto's STS hands any caller the credentials of any role. It never reads the role's trust policy
(its assume_role even says the role need not exist).

AWS lets a caller assume a role only when the role's trust policy has a statement that allows
sts:AssumeRole to the caller's principal and every condition of that statement holds, and no statement
denies it; a role's trust policy must name the principal, so the caller's own identity policy cannot
stand in for it (IAM User Guide, "Policy evaluation logic", cross-account and role trust:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html). Otherwise
the caller gets AccessDenied, "User: <caller> is not authorized to perform: sts:AssumeRole on resource:
<role arn>" (IAM User Guide, "Access denied error messages":
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).

What is emulated: Principal ("*", the caller's ARN, a role session as its role, the caller's account as an
id or :root), Action (with wildcards), and the conditions of localaws.policy_language on the keys the
request carries: sts:ExternalId (the ExternalId the caller passed), aws:PrincipalArn, aws:PrincipalAccount,
and aws:SourceArn and aws:SourceAccount when the caller passes them (request_headers.on_behalf_of). What is not: the
caller's own identity policy, session policies, service principals (a service's own AssumeRole never goes
through moto's STS API), and the role's maximum session duration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.iam.models import iam_backends

from localaws import request_headers
from localaws.callers import caller_of
from localaws.policy_language import Statement, applies, principal_matches, statements
from localaws.refusals import refuse

ACTION = "sts:AssumeRole"


def authorizing(original: Callable[..., None]) -> Callable[..., None]:
    """moto's authorization hook, evaluating the role's trust policy for AssumeRole first (the hook every
    query-protocol action passes before it runs; localaws.replacements applies it as the gap role-trust)."""

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if self.service_name == "sts" and self._get_action() == "AssumeRole":
            refuse_unless_trusted(self)
        original(self, iam_request_cls, resource)

    return authorize


def refuse_unless_trusted(response: Any) -> None:
    role_arn = str(response._get_param("RoleArn") or "")
    caller = caller_of(response.access_key, response.current_account, response.partition)
    context = {
        "aws:principalarn": caller.principal_arn,
        "aws:principalaccount": caller.account,
        "sts:externalid": response._get_param("ExternalId"),
        "aws:sourcearn": response.headers.get(request_headers.SOURCE_ARN_HEADER),
        "aws:sourceaccount": response.headers.get(request_headers.SOURCE_ACCOUNT_HEADER),
    }
    present = {key: str(value) for key, value in context.items() if value is not None}
    document = _trust_policy(role_arn, response.partition)

    def grants(statement: Statement) -> bool:
        return principal_matches(statement, caller.principal_arn, caller.account) and applies(
            statement, ACTION, role_arn, lambda: present
        )

    allowed = document is not None and any(grants(s) for s in statements(document, "Allow"))
    denied = document is not None and any(grants(s) for s in statements(document, "Deny"))
    if not allowed or denied:
        refuse(
            response,
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: {ACTION} on resource: {role_arn}",
        )


def _trust_policy(role_arn: str, partition: str) -> str | None:
    """The role's trust policy as JSON text, or None when there is no such role (AWS refuses alike)."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return None
    account, name = parts[4], parts[5].rsplit("/", 1)[-1]
    roles = iam_backends[account][partition].roles.values()
    found = next((role for role in roles if role.name == name), None)
    if found is None:
        return None
    document = found.assume_role_policy_document
    return document if isinstance(document, str) else json.dumps(document)
