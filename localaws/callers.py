"""Who is calling, from the request's access key, as IAM names the caller in aws:PrincipalArn and in
its error messages: a role session from moto's STS is arn:aws:sts::<account>:assumed-role/<role>/<session>,
matched as its role ARN; an IAM user's key is that user; anything else is the account's root."""

from __future__ import annotations

from dataclasses import dataclass

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends


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
