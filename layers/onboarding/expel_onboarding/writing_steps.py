"""What the two writing steps' functions do with their event, whatever the run's mode and phase: KeyPolicy's
statement in the CloudTrail key's policy (step 2 of Expel's Control Tower guide) and Notification's delivery
to our topic (step 8). Their handlers only parse the event and log the report."""

from __future__ import annotations

from functools import partial

from expel_onboarding import clients, key_policy, notification, subscription
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.key_policy import delegated
from expel_onboarding.reports import Mode, Status, StepReport, kept, undone
from expel_onboarding.settings import StepEvent
from expel_onboarding.steps import by_phase

UNKNOWN_KEY = (
    "The trail's KMS key is unknown, so Workbench may not be able to decrypt the logs. Set CloudTrailKeyArn "
    "to the trail's key (CloudTrail console: the trail, General details, AWS KMS key) and re-run repair."
)


def key_policy_step(step: StepEvent) -> StepReport:
    target = step.settings.key_target(step.cloudtrail_key_arn)
    if step.leaves_alone("CloudTrailKeyArn"):
        return kept(key_policy.STEP, "The key did not change in this update: our statement stays.")
    if target is None and step.discovered.get("KeySource") == "unknown":
        # Never "not encrypted" on a guess: Discover found neither the trail's key nor a log file saying so.
        return StepReport(key_policy.STEP, Status.ACTION_REQUIRED, UNKNOWN_KEY, {})
    if target is None:
        return key_policy.not_encrypted()

    def run(mode: Mode, plan: bool = False) -> StepReport:
        return delegated.run(
            target,
            mode,
            delegate_arn=step.settings.key_policy_delegate_arn,
            local_kms=partial(clients.kms, target.key_arn),
            invoke=clients.invoke,
            preflight=plan,
        )

    return by_phase(
        key_policy.STEP,
        step.phase,
        lambda plan: run(step.mode, plan),
        # Only a statement this run added is undone, by removing it: that gives back the text byte for byte.
        lambda: (
            undone(run(Mode.REMOVE))
            if step.undo_record(key_policy.STEP).get("Remove")
            else kept(key_policy.STEP, "This run added no statement: nothing to undo.")
        ),
    )


def notification_step(step: StepEvent) -> StepReport:
    """bucket-notification: our s3:ObjectCreated:* entry on the log bucket, beside everyone else's.
    trail-topic: the relay's subscription to the organization trail's SNS topic (landing zone 4.0)."""
    config = step.settings
    if step.leaves_alone("LogBucketName", "DeliveryMode"):
        report = kept(notification.STEP, "The bucket and delivery mode did not change in this update: ours stays.")
    elif config.delivery_mode is DeliveryMode.TRAIL_TOPIC:
        report = by_phase(
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
    elif step.discovered.get("BucketMissing"):
        report = kept(notification.STEP, "The bucket is gone, and our entry with it.")
    else:
        target = config.notification_target()
        report = by_phase(
            notification.STEP,
            step.phase,
            lambda plan: notification.converge(clients.s3(), target, step.mode, preflight=plan),
            lambda: notification.undo(clients.s3(), target, step.undo_record(notification.STEP)),
        )
    # Always there, so the state machine's Choice on it never reads a missing path (a States.Runtime error).
    refused = {**report.data, "Refused": bool(report.data.get("Refused"))}
    return StepReport(report.name, report.status, report.detail, refused, report.undo)
