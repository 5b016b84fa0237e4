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
    answer = delegate.handle(event, settings, clients.kms(settings.key_arn))
    report = answer["Report"]
    logger.info("delegate answered", extra={"operation": answer["Operation"], "status": report["Status"]})
    return answer
