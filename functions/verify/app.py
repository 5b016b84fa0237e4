"""Verify: Workbench can read the logs: subscription, role trust, and our entries after a write."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, notification, verify
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.key_policy import delegated
from expel_onboarding.reports import Status
from expel_onboarding.settings import StepEvent

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    config = step.settings
    key_target = config.key_target(step.cloudtrail_key_arn)
    check_key = (
        delegated.checker(
            key_target, config.key_policy_delegate_arn, partial(clients.kms, key_target.key_arn), clients.invoke
        )
        if key_target
        else None
    )
    report = verify.verify(
        sns=clients.sns(),
        iam=clients.iam(),
        s3=clients.s3(),
        check_key=check_key,
        target=config.verify_target(),
        notification_target=config.notification_target(),
        key_target=key_target,
        mode=step.mode,
        # Our bucket entry is there to re-read only in bucket-notification mode, and only if it was written.
        bucket_entry_expected=config.delivery_mode is DeliveryMode.BUCKET_NOTIFICATION
        and step.status_of(notification.STEP) != Status.ACTION_REQUIRED,
    )
    logger.info("step finished", extra={"step": report.name, "status": report.status, "mode": step.mode})
    return report.to_dict()
