"""KeyPolicy: our kms:Decrypt statement in the CloudTrail key's policy (step 2 of Expel's Control Tower guide)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding.settings import StepEvent
from expel_onboarding.writing_steps import key_policy_step

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    report = key_policy_step(step)
    logger.info(
        "step finished", extra={"step": report.name, "status": report.status, "mode": step.mode, "phase": step.phase}
    )
    return report.to_dict()
