"""Notification: deliver log-object events to our topic, by the stack's delivery mode (step 8 of
Expel's Control Tower guide): our entry on the log bucket, or the relay's subscription to the trail's topic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding.settings import StepEvent
from expel_onboarding.writing_steps import notification_step

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    report = notification_step(step)
    logger.info(
        "step finished", extra={"step": report.name, "status": report.status, "mode": step.mode, "phase": step.phase}
    )
    return report.to_dict()
