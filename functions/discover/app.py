"""Discover: the management account, the trail's key, and the bucket's region. Reads only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, discovery
from expel_onboarding.settings import StepEvent

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    target = step.settings.discovery_target()
    report = discovery.discover(clients.organizations(), clients.cloudtrail(), clients.s3(), target, step.mode)
    logger.info("step finished", extra={"step": report.name, "status": report.status, "mode": step.mode})
    return report.to_dict()
