"""Trail-topic delivery: our relay queue's subscription to the organization trail's SNS topic.

On landing zone 4.0 this replaces the bucket notification (see delivery.py). The topic is Control
Tower's, under its mandatory control CT.SNS.PV.1, which allows Subscribe, Unsubscribe and List* but
denies SetSubscriptionAttributes: so every attribute is given in the Subscribe call, and a
subscription whose attributes drifted is replaced (unsubscribe, then subscribe), never edited.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from expel_onboarding import notification
from expel_onboarding.delivery import account_of
from expel_onboarding.errors import ACCESS_DENIED_CODES, error_code, error_message, is_explicit_deny, translate
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient

STEP = notification.STEP
PENDING = "PendingConfirmation"
NO_ALTERNATIVES = "Grant the action to this stack's notification function role."


@dataclass(frozen=True)
class Target:
    topic_arn: str
    queue_arn: str
    dead_letter_arn: str
    account_id: str


def attributes(target: Target) -> dict[str, str]:
    """Every attribute our subscription needs, as Subscribe takes them.

    Raw delivery hands the relay CloudTrail's own message; the redrive policy keeps what SNS cannot
    deliver (a queue or key problem) in our dead-letter queue instead of dropping it."""
    return {
        "RawMessageDelivery": "true",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": target.dead_letter_arn}),
    }


def ours(sns: SNSClient, target: Target) -> list[dict[str, Any]]:
    """The topic's subscriptions that deliver to our relay queue (normally one)."""
    found = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=target.topic_arn):
        for entry in page["Subscriptions"]:
            if entry.get("Protocol") == "sqs" and entry.get("Endpoint") == target.queue_arn:
                found.append(dict(entry))
    return found


def differences(sns: SNSClient, subscription_arn: str, target: Target) -> list[str]:
    """How a subscription's attributes differ from ours; empty when it is what we would create."""
    current = sns.get_subscription_attributes(SubscriptionArn=subscription_arn)["Attributes"]
    wanted = attributes(target)
    found = []
    if current.get("RawMessageDelivery", "false") != wanted["RawMessageDelivery"]:
        found.append("raw message delivery is off")
    redrive = json.loads(current.get("RedrivePolicy") or "{}")
    if redrive != json.loads(wanted["RedrivePolicy"]):
        found.append(f"its redrive policy is {redrive or 'missing'}")
    if current.get(PENDING) == "true":
        found.append("it is pending confirmation")
    return found


def refused(exc: ClientError, action: str, target: Target) -> StepReport:
    """A refusal by the topic's owner: what to ask them for, as the step's ACTION_REQUIRED."""
    owner = account_of(target.topic_arn)
    kind = "an explicit deny (a service control policy)" if is_explicit_deny(exc) else "the topic's policy"
    detail = (
        f"{action} on {target.topic_arn} (account {owner}) was refused by {kind}: {error_message(exc)} "
        f"Ask the owner of account {owner} to allow sns:Subscribe, sns:Unsubscribe, sns:ListSubscriptionsByTopic "
        f"and sns:GetSubscriptionAttributes on that topic for arn:aws:iam::{target.account_id}:root (or this "
        "stack's notification function role), then re-run repair; or set DeliveryMode=bucket-notification."
    )
    # Refused: the run takes back a key statement it added, since no events will come (see the ASL).
    return StepReport(STEP, Status.ACTION_REQUIRED, detail, {"TopicArn": target.topic_arn, "Refused": True})


def converge(sns: SNSClient, target: Target, mode: Mode, *, preflight: bool = False) -> StepReport:
    """Read, decide, and subscribe or unsubscribe only when needed. A preflight reads and decides only."""
    data = {"TopicArn": target.topic_arn, "QueueArn": target.queue_arn}
    action = "sns:ListSubscriptionsByTopic"
    try:
        found = ours(sns, target)
        confirmed = [s for s in found if s["SubscriptionArn"] != PENDING]
        problems = {s["SubscriptionArn"]: differences(sns, s["SubscriptionArn"], target) for s in confirmed}
        good = [arn for arn, why in problems.items() if not why]
        if mode is Mode.REMOVE:
            if not confirmed:
                return StepReport(STEP, Status.OK, f"The relay is not subscribed to {target.topic_arn}.", data)
            if preflight:
                return StepReport(STEP, Status.DRIFTED, f"Would unsubscribe the relay from {target.topic_arn}.", data)
            action = "sns:Unsubscribe"
            for arn in problems:
                sns.unsubscribe(SubscriptionArn=arn)
            # Undone by subscribing again, with the same attributes.
            undo = {"Subscribe": True}
            return StepReport(STEP, Status.CHANGED, f"Unsubscribed the relay from {target.topic_arn}.", data, undo)
        if len(good) == 1 and len(found) == 1:
            detail = f"The relay queue is subscribed to {target.topic_arn}, raw, with its dead-letter queue."
            return StepReport(STEP, Status.OK, detail, {**data, "SubscriptionArn": good[0]})
        what = _drift(found, problems, target)
        if mode is Mode.CHECK:
            return StepReport(STEP, Status.DRIFTED, what, data)
        if preflight:
            return StepReport(STEP, Status.DRIFTED, f"{what} Would subscribe it again.", data)
        action = "sns:Unsubscribe"
        # CT.SNS.PV.1 denies SetSubscriptionAttributes: a drifted subscription is replaced, and one is kept.
        keep = good[:1]
        for arn in problems:
            if arn not in keep:
                sns.unsubscribe(SubscriptionArn=arn)
        if not keep:
            action = "sns:Subscribe"
            keep = [_subscribe(sns, target)]
    except ClientError as exc:
        if error_code(exc) in ACCESS_DENIED_CODES:
            return refused(exc, action, target)
        raise translate(exc, action, target.topic_arn, NO_ALTERNATIVES) from exc
    return StepReport(STEP, Status.CHANGED, f"{what} Subscribed it again.", {**data, "SubscriptionArn": keep[0]})


def _subscribe(sns: SNSClient, target: Target) -> str:
    response = sns.subscribe(
        TopicArn=target.topic_arn,
        Protocol="sqs",
        Endpoint=target.queue_arn,
        Attributes=attributes(target),
        ReturnSubscriptionArn=True,
    )
    return str(response["SubscriptionArn"])


def _drift(found: list[dict[str, Any]], problems: dict[str, list[str]], target: Target) -> str:
    if not found:
        return f"The relay queue is not subscribed to {target.topic_arn}."
    if len(found) > len(problems):
        return f"The relay's subscription to {target.topic_arn} is pending confirmation."
    reasons = "; ".join(f"{arn}: {', '.join(why)}" for arn, why in problems.items() if why)
    if reasons:
        return f"The relay's subscription to {target.topic_arn} differs ({reasons})."
    return f"The relay queue is subscribed to {target.topic_arn} {len(found)} times."


def leftover_bucket_entry(s3: S3Client, target: notification.Target) -> StepReport | None:
    """Our earlier bucket entry, when this stack used bucket-notification before (an upgraded zone).

    Only read: on landing zone 4.0 no role of ours may write the bucket's notifications. While the
    entry stays, S3 keeps sending the same events, so Workbench may see each object twice."""
    config = notification.read(s3, target)
    if notification.find(config, target.entry_id) is None:
        return None
    detail = (
        f"Our earlier entry '{target.entry_id}' is still on {target.bucket} and sends the same events as the relay, "
        f"so Workbench may get each one twice. Whoever may change the bucket's notifications removes it with: "
        f"{notification.put_command(target.bucket, notification.remove(config, target.entry_id))}"
    )
    return StepReport(STEP, Status.ACTION_REQUIRED, detail, {"Bucket": target.bucket})


def converge_with_leftover(
    sns: SNSClient,
    s3: S3Client,
    target: Target,
    bucket_target: notification.Target,
    mode: Mode,
    *,
    preflight: bool = False,
) -> StepReport:
    """Trail-topic delivery, plus what bucket-notification delivery may have left on the bucket."""
    report = converge(sns, target, mode, preflight=preflight)
    if mode is Mode.REMOVE or report.status is Status.ACTION_REQUIRED:
        return report
    leftover = leftover_bucket_entry(s3, bucket_target)
    if leftover is None:
        return report
    # Drift stays drift (the alarm counts it); otherwise the leftover is what needs a person.
    status = Status.DRIFTED if report.status is Status.DRIFTED else Status.ACTION_REQUIRED
    return StepReport(STEP, status, f"{report.detail} {leftover.detail}", report.data, report.undo)


def removal_command(target: Target) -> str:
    """The command that unsubscribes the relay queue, and nothing else, from the trail's topic by hand."""
    query = f"Subscriptions[?Endpoint=='{target.queue_arn}'].SubscriptionArn"
    return (
        f"aws sns list-subscriptions-by-topic --topic-arn {shlex.quote(target.topic_arn)} --query "
        f"{shlex.quote(query)} --output text | xargs -n1 aws sns unsubscribe --subscription-arn"
    )


def undo(sns: SNSClient, target: Target, record: Mapping[str, Any]) -> StepReport:
    """Put back a removal this run made, because a later step failed: subscribe the relay again."""
    if not record.get("Subscribe"):
        return StepReport(STEP, Status.OK, "This run changed no subscription: nothing to undo.", {})
    report = converge(sns, target, Mode.APPLY)
    return StepReport(STEP, report.status, f"Undone: {report.detail}", report.data)
