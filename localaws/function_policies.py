"""Gap: moto's Lambda lets another account invoke a function whatever its resource-based policy says.

AWS evaluates the function's policy for a caller of another account (Lambda developer guide, "Working with
resource-based IAM policies in Lambda"): an Allow must name the caller (its ARN, its account or "*") for
lambda:InvokeFunction, with every condition holding, and an explicit Deny wins. The conditions evaluated are
the global keys a policy here uses: aws:PrincipalArn, aws:PrincipalAccount and aws:PrincipalOrgID.

Who calls: a function's calls are made as its execution role, so a call made while one of this process's
functions runs is that role's (localaws.request_headers.as_principal); any other call is its access key's
principal (localaws.callers).
"""

from __future__ import annotations

import json
from typing import Any

from moto.organizations.models import organizations_backends

from localaws.callers import caller_of
from localaws.policy_language import applies, principal_matches, statements
from localaws.request_headers import PRINCIPAL_HEADER

INVOKE = "lambda:InvokeFunction"


def organization_of(account: str) -> str:
    membership = organizations_backends.master_accounts.get(account)
    if membership is None:
        return ""
    master, partition = membership
    organization = organizations_backends[master][partition].org
    return str(organization.id) if organization is not None else ""


def caller_principal(account: str, headers: Any) -> str:
    """The invoking principal's ARN, as IAM sets aws:PrincipalArn (a role for a role session): the running
    function's role when a local function calls (localaws.request_headers.as_principal), else the access
    key's principal."""
    named = (headers or {}).get(PRINCIPAL_HEADER)
    if named:
        return str(named)
    authorization = str((headers or {}).get("Authorization", ""))
    access_key = authorization.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in authorization else ""
    return caller_of(access_key, account, "aws").principal_arn


def allows(function: Any, principal_arn: str, account: str) -> bool:
    """Whether the function's resource-based policy lets this principal of another account invoke it."""
    # moto keeps an AddPermission principal as a bare string (an account or an ARN); IAM's form is {"AWS": ...}.
    normalized = [
        {**statement, "Principal": {"AWS": statement["Principal"]}}
        if isinstance(statement.get("Principal"), str) and statement["Principal"] != "*"
        else statement
        for statement in function.policy.statements
    ]
    document = json.dumps({"Statement": normalized})
    context = {
        "aws:principalarn": principal_arn,
        "aws:principalaccount": account,
        "aws:principalorgid": organization_of(account),
    }

    def names_caller(effect: str) -> bool:
        return any(
            principal_matches(statement, principal_arn, account)
            and applies(statement, INVOKE, function.function_arn, lambda: context)
            for statement in statements(document, effect)
        )

    return names_caller("Allow") and not names_caller("Deny")
