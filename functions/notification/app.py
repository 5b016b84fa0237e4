"""Notification: deliver log-object events to our topic, by the stack's delivery mode (seed step 8).

bucket-notification: our s3:ObjectCreated:* entry on the log bucket, beside everyone else's.
trail-topic: the relay's subscription to the organization trail's SNS topic (landing zone 4.0).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, notification, subscription
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.reports import kept
from expel_onboarding.settings import StepEvent

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    config = step.settings
    if step.leaves_alone("LogBucketName", "DeliveryMode"):
        report = kept(notification.STEP, "The bucket and delivery mode did not change in this update: ours stays.")
    elif config.delivery_mode is DeliveryMode.TRAIL_TOPIC:
        report = subscription.converge_with_leftover(
            clients.sns(), clients.s3(), config.subscription_target(), config.notification_target(), step.mode
        )
    elif step.discovered.get("BucketMissing"):
        report = kept(notification.STEP, "The bucket is gone, and our entry with it.")
    else:
        report = notification.converge(clients.s3(), config.notification_target(), step.mode)
    logger.info("step finished", extra={"step": report.name, "status": report.status, "mode": step.mode})
    return report.to_dict()
