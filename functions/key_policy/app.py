"""KeyPolicy: our kms:Decrypt statement in the CloudTrail key's policy (seed step 2)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, key_policy
from expel_onboarding.reports import kept
from expel_onboarding.settings import StepEvent

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    target = step.settings.key_target(step.cloudtrail_key_arn)
    if step.leaves_alone("CloudTrailKeyArn"):
        report = kept(key_policy.STEP, "The key did not change in this update: our statement stays.")
    elif target is None:
        report = key_policy.not_encrypted()
    else:
        report = key_policy.run(
            target,
            step.mode,
            key_policy_role_arn=step.settings.key_policy_role_arn,
            local_kms=clients.kms,
            assumed_kms=clients.kms_as,
        )
    logger.info("step finished", extra={"step": report.name, "status": report.status, "mode": step.mode})
    return report.to_dict()
