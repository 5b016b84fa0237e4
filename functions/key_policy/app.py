"""KeyPolicy: our kms:Decrypt statement in the CloudTrail key's policy (step 2 of Expel's Control Tower guide)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, key_policy
from expel_onboarding.key_policy import delegated
from expel_onboarding.reports import Mode, Status, StepReport, kept, undone
from expel_onboarding.settings import StepEvent
from expel_onboarding.steps import by_phase

logger = Logger()
UNKNOWN_KEY = (
    "The trail's KMS key is unknown, so Workbench may not be able to decrypt the logs. Set CloudTrailKeyArn "
    "to the trail's key (CloudTrail console: the trail, General details, AWS KMS key) and re-run repair."
)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepEvent.parse(event)
    target = step.settings.key_target(step.cloudtrail_key_arn)
    if step.leaves_alone("CloudTrailKeyArn"):
        report = kept(key_policy.STEP, "The key did not change in this update: our statement stays.")
    elif target is None and step.discovered.get("KeySource") == "unknown":
        # Never "not encrypted" on a guess: Discover found neither the trail's key nor a log file saying so.
        report = StepReport(key_policy.STEP, Status.ACTION_REQUIRED, UNKNOWN_KEY, {})
    elif target is None:
        report = key_policy.not_encrypted()
    else:
        report = by_phase(
            key_policy.STEP,
            step.phase,
            lambda plan: run(step, target, step.mode, preflight=plan),
            # Only a statement this run added is undone, by removing it: that gives back the text byte for byte.
            lambda: (
                undone(run(step, target, Mode.REMOVE))
                if step.undo_record(key_policy.STEP).get("Remove")
                else kept(key_policy.STEP, "This run added no statement: nothing to undo.")
            ),
        )
    logger.info(
        "step finished", extra={"step": report.name, "status": report.status, "mode": step.mode, "phase": step.phase}
    )
    return report.to_dict()


def run(step: StepEvent, target: key_policy.Target, mode: Mode, *, preflight: bool = False) -> StepReport:
    return delegated.run(
        target,
        mode,
        delegate_arn=step.settings.key_policy_delegate_arn,
        local_kms=partial(clients.kms, target.key_arn),
        invoke=clients.invoke,
        preflight=preflight,
    )
