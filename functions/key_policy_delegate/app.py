"""KeyPolicyDelegate (management account): add, remove or read our one key statement, nothing else."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, delegate

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A refused request raises DelegateRefused: the caller sees it as the function error's type.
    settings = delegate.config()
    kms = clients.kms(settings.key_arn)
    # The audit record of every call, refused ones included: who asked (the stack; only its KeyPolicy and
    # Verify roles may invoke this function), through which door and so which of those two roles (Lambda does
    # not tell a function its caller; the door's resource-based policy admits one), what, on which key and
    # Sid, and the policy before and after.
    witness = delegate.WITNESS.watch(kms)
    asked = event if isinstance(event, dict) else {}
    audit = {
        "stack": asked.get("StackId"),
        "invoked_as": context.invoked_function_arn,
        "operation": asked.get("Operation"),
        "key": settings.key_arn,
        "sid": asked.get("Sid"),
    }
    try:
        door = delegate.door_of(context.invoked_function_arn, settings)
        audit["caller"] = door.admits
        answer = delegate.handle(event, settings, kms, door)
    except Exception as exc:
        logger.warning("delegate refused", extra={**audit, **witness.digests(), "error": type(exc).__name__})
        raise
    status = answer["Report"]["Status"]
    logger.info("delegate answered", extra={**audit, **witness.digests(), "status": status})
    return answer
