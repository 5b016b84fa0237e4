"""Gap: moto's Lambda lets another account invoke a function whatever its resource-based policy says.

AWS evaluates the function's policy for a caller of another account (Lambda developer guide, "Working with
resource-based IAM policies in Lambda"): an Allow must name the caller (its ARN, its account or "*") for
lambda:InvokeFunction, with every condition holding, and an explicit Deny wins. The conditions evaluated are
the global keys a policy here uses: aws:PrincipalArn, aws:PrincipalAccount and aws:PrincipalOrgID.

Each function, version and alias has a policy of its own, and a permission on an alias lets a caller invoke
that alias's ARN only (Lambda developer guide, "Using Lambda aliases in event sources and permissions
policies"). moto keeps one list of statements per function, an AddPermission with a Qualifier naming the
qualified ARN as its Resource; here each statement belongs to the resource its Resource names, and a call is
judged by the policy of the ARN it invoked.

Who calls: a function's calls are made as its execution role, so a call made while one of this process's
functions runs is that role's (localaws.request_headers.as_principal); any other call is its access key's
principal (localaws.callers).
"""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda.models import lambda_backends
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


def qualifier_of(arn: str) -> str:
    """The version or alias an ARN names ("" for the function itself)."""
    parts = arn.split(":")
    return parts[7] if len(parts) > 7 else ""


def _resources(statement: dict[str, Any]) -> list[str]:
    found = statement.get("Resource", [])
    return [found] if isinstance(found, str) else list(found)


def _belongs_to(statement: dict[str, Any], qualifier: str) -> bool:
    return any(qualifier_of(resource) == qualifier for resource in _resources(statement))


def set_policy(resource_arn: str, statements: list[dict[str, Any]]) -> None:
    """Replace the whole policy of a function or of one of its aliases (AWS::Lambda::ResourcePolicy), and no
    other resource's."""
    parts = resource_arn.split(":")
    function = lambda_backends[parts[4]][parts[3]].get_function(":".join(parts[:7]))
    qualifier = qualifier_of(resource_arn)
    kept = [statement for statement in function.policy.statements if not _belongs_to(statement, qualifier)]
    function.policy.statements = kept + statements


def allows(function: Any, invoked_arn: str, principal_arn: str, account: str) -> bool:
    """Whether the policy of the invoked ARN (the function's, or its alias's) lets this principal of another
    account invoke it."""
    qualifier = qualifier_of(invoked_arn)
    # moto keeps an AddPermission principal as a bare string (an account or an ARN); IAM's form is {"AWS": ...}.
    normalized = [
        {**statement, "Principal": {"AWS": statement["Principal"]}}
        if isinstance(statement.get("Principal"), str) and statement["Principal"] != "*"
        else statement
        for statement in function.policy.statements
        if _belongs_to(statement, qualifier)
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
            and applies(statement, INVOKE, invoked_arn, lambda: context)
            for statement in statements(document, effect)
        )

    return names_caller("Allow") and not names_caller("Deny")
