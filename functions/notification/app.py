"""Notification: deliver log-object events to our topic, by the stack's delivery mode (step 8 of
Expel's Control Tower guide).

bucket-notification: our s3:ObjectCreated:* entry on the log bucket, beside everyone else's.
trail-topic: the relay's subscription to the organization trail's SNS topic (landing zone 4.0).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, notification, subscription
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.reports import StepReport, kept
from expel_onboarding.settings import StepEvent
from expel_onboarding.steps import by_phase

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    if step.leaves_alone("LogBucketName", "DeliveryMode"):
        report = kept(notification.STEP, "The bucket and delivery mode did not change in this update: ours stays.")
    elif step.settings.delivery_mode is DeliveryMode.TRAIL_TOPIC:
        report = trail_topic(step)
    elif step.discovered.get("BucketMissing"):
        report = kept(notification.STEP, "The bucket is gone, and our entry with it.")
    else:
        report = bucket_notification(step)
    logger.info(
        "step finished", extra={"step": report.name, "status": report.status, "mode": step.mode, "phase": step.phase}
    )
    # Always there, so the state machine's Choice on it never reads a missing path (a States.Runtime error).
    refused = {**report.data, "Refused": bool(report.data.get("Refused"))}
    return StepReport(report.name, report.status, report.detail, refused, report.undo).to_dict()


def trail_topic(step: StepEvent) -> StepReport:
    config = step.settings
    return by_phase(
        notification.STEP,
        step.phase,
        lambda plan: subscription.converge_with_leftover(
            clients.sns(),
            clients.s3(),
            config.subscription_target(),
            config.notification_target(),
            step.mode,
            preflight=plan,
        ),
        lambda: subscription.undo(clients.sns(), config.subscription_target(), step.undo_record(notification.STEP)),
    )


def bucket_notification(step: StepEvent) -> StepReport:
    target = step.settings.notification_target()
    return by_phase(
        notification.STEP,
        step.phase,
        lambda plan: notification.converge(clients.s3(), target, step.mode, preflight=plan),
        lambda: notification.undo(clients.s3(), target, step.undo_record(notification.STEP)),
    )
