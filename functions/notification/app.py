"""Notification: our s3:ObjectCreated:* entry on the log bucket, beside everyone else's (seed step 8)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, notification
from expel_onboarding.reports import kept
from expel_onboarding.settings import StepEvent

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    if step.leaves_alone("LogBucketName"):
        report = kept(notification.STEP, "The bucket did not change in this update: our entry stays.")
    elif step.discovered.get("BucketMissing"):
        report = kept(notification.STEP, "The bucket is gone, and our entry with it.")
    else:
        report = notification.converge(clients.s3(), step.settings.notification_target(), step.mode)
    logger.info("step finished", extra={"step": report.name, "status": report.status, "mode": step.mode})
    return report.to_dict()
