"""Every CloudTrail log file reaches Workbench's queue exactly once, on every landing-zone generation and in
every delivery mode, or the deploy says why it cannot; nothing but log files and (in bucket-notification
mode) digests ever arrives.

Each cell deploys the stack as template.yaml would for the mode asked (LogTarget, then the apply run),
with the relay on its queue as the event source mapping runs it, then CloudTrail and AWS Config deliver one
object each, and the events on Workbench's queue are counted per object:

- a log file: exactly 1 wherever the deploy delivers; 0 only where the run or LogTarget said why not;
- a digest: S3's filters are one prefix and one suffix, and a digest shares both with the log files beside
  it, so our bucket entry notifies it (Workbench skips it, as with Expel's manual setup); CloudTrail
  announces log files only, so the relay never sees one;
- an AWS Config object: never (on 3.x our entry's prefix is the trail's log root, which Config's folders
  are not under; from 4.0 Config has a bucket of its own, and its messages on a shared topic are skipped).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import pytest

from expel_onboarding import discovery
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import DeliveryModeUnavailable
from expel_onboarding.naming import owned_id
from localaws import clients, deployment, landing_zone, stack_resources, trail_deliveries
from localaws.accounts import LOG_ARCHIVE, REGION

GENERATIONS = ("3", "4.0", "upgraded", "upgraded-older-entry")
MODES = (DeliveryMode.AUTO, DeliveryMode.BUCKET_NOTIFICATION, DeliveryMode.TRAIL_TOPIC)


@dataclass(frozen=True)
class Cell:
    """What one generation and requested mode come to: the mode in use (or why there is none), the run's
    Notification status, and the events Workbench's queue gets for a log file, a digest and a Config object."""

    mode: str
    notification: str
    log_file: int
    digest: int
    config_object: int


# What each cell must come to. "refused" is LogTarget's refusal, before anything is written.
EXPECTED = {
    ("3", DeliveryMode.AUTO): Cell("bucket-notification", "CHANGED", 1, 1, 0),
    ("3", DeliveryMode.BUCKET_NOTIFICATION): Cell("bucket-notification", "CHANGED", 1, 1, 0),
    # The 3.x trail's topic is AWS Config's, in the Audit account, whose policy lets only CloudTrail publish:
    # the subscription is refused, the run says so and takes its key statement back.
    ("3", DeliveryMode.TRAIL_TOPIC): Cell("trail-topic", "ACTION_REQUIRED", 0, 0, 0),
    ("4.0", DeliveryMode.AUTO): Cell("trail-topic", "CHANGED", 1, 0, 0),
    # CT.S3.PV.8 denies the bucket write: the run says so, names trail-topic, and takes its key statement back.
    ("4.0", DeliveryMode.BUCKET_NOTIFICATION): Cell("bucket-notification", "ACTION_REQUIRED", 0, 0, 0),
    ("4.0", DeliveryMode.TRAIL_TOPIC): Cell("trail-topic", "CHANGED", 1, 0, 0),
    # Onboarded on 3.x, then upgraded, then redeployed (a new LogTargetRevision) and checked: our bucket entry
    # still fires and CT.S3.PV.8 freezes it.
    ("upgraded", DeliveryMode.AUTO): Cell("bucket-notification", "OK", 1, 1, 0),
    ("upgraded", DeliveryMode.BUCKET_NOTIFICATION): Cell("bucket-notification", "OK", 1, 1, 0),
    ("upgraded", DeliveryMode.TRAIL_TOPIC): Cell("refused", "OK", 1, 1, 0),
    # The same with the unfiltered entry stacks wrote before they read the trail's log root: kept as it is.
    ("upgraded-older-entry", DeliveryMode.AUTO): Cell("bucket-notification", "OK", 1, 1, 0),
    ("upgraded-older-entry", DeliveryMode.BUCKET_NOTIFICATION): Cell("bucket-notification", "OK", 1, 1, 0),
    ("upgraded-older-entry", DeliveryMode.TRAIL_TOPIC): Cell("refused", "OK", 1, 1, 0),
}


def with_relay(environment: dict[str, str], name: str) -> deployment.Workflow:
    """The steps and the relay, triggered by its queue as the SQS event source mapping does."""
    workflow = deployment.deploy(environment, name=name)
    relay = deployment.create_function(
        "RelayFunction", f"arn:aws:iam::{LOG_ARCHIVE}:role/{name}-functions", environment, name
    )
    clients.lambda_().create_event_source_mapping(
        EventSourceArn=environment["RELAY_QUEUE_ARN"], FunctionName=relay, BatchSize=10
    )
    return workflow


def applied(workflow: deployment.Workflow) -> dict[str, str]:
    description = deployment.run(workflow, {"Mode": "apply"})
    assert description["status"] == "SUCCEEDED", description.get("cause")
    summary: dict[str, Any] = json.loads(description["output"])
    return {step["Name"]: step["Status"] for step in summary["Steps"]}


def redeployed(zone: landing_zone.LandingZone, requested: DeliveryMode, environment: dict[str, str]) -> dict[str, str]:
    """What a redeploy with a new LogTargetRevision gives the functions: LogTarget reads the trail again and
    looks for our entry (DeliveryModeUnavailable when it refuses, before anything is written)."""
    found = discovery.log_target(
        clients.cloudtrail(),
        "",
        requested,
        LOG_ARCHIVE,
        REGION,
        organization_id=zone.organization_id,
        our_entry=discovery.our_entry_on(clients.s3(), owned_id(landing_zone.STACK_ID), LOG_ARCHIVE),
        revision="2",
    )
    attributes = found.attributes("aws", REGION, LOG_ARCHIVE)
    return {
        **environment,
        "DELIVERY_MODE": attributes["DeliveryMode"],
        "DELIVERY_REASON": attributes["Reason"],
        "REQUESTED_DELIVERY_MODE": requested.value,
        "TRAIL_TOPIC_ARN": attributes["TopicArn"],
        "NOTIFICATION_PREFIX": attributes["NotificationPrefix"],
        "LOG_TARGET_TRAIL": attributes["Trail"],
    }


def unfiltered(bucket: str) -> None:
    """Our entry as stacks made before the trail's log root was read wrote it: no filter (3.x lets us write)."""
    s3 = clients.s3()
    config = landing_zone.notifications_of(bucket)
    for entry in config["TopicConfigurations"]:
        if entry["Id"] == owned_id(landing_zone.STACK_ID):
            entry.pop("Filter")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)  # type: ignore[arg-type]


def onboard(generation: str, requested: DeliveryMode) -> tuple[landing_zone.LandingZone, str, str, str]:
    """The zone, the mode in use (or "refused"), the run's Notification status and Workbench's queue."""
    if not generation.startswith("upgraded"):
        zone = landing_zone.seed(generation)
        environment = stack_resources.deploy_stack_resources(zone, delivery_mode=requested)
        statuses = applied(with_relay(environment, "cell"))
        return zone, environment["DELIVERY_MODE"], statuses["Notification"], environment["QUEUE_URL"]
    zone = landing_zone.seed("3")
    environment = stack_resources.deploy_stack_resources(zone, delivery_mode=DeliveryMode.AUTO)
    assert applied(with_relay(environment, "cell"))["Notification"] == "CHANGED"
    if generation == "upgraded-older-entry":
        unfiltered(zone.bucket)
    zone = landing_zone.upgrade(zone)
    try:
        again = redeployed(zone, requested, environment)
    except DeliveryModeUnavailable:
        return zone, "refused", "OK", environment["QUEUE_URL"]
    # The redeployed functions (the relay deployed first still serves its queue, whatever the mode).
    workflow = deployment.deploy(again, name="redeployed")
    statuses = applied(workflow)
    checked = json.loads(deployment.run(workflow, {"Mode": "check"})["output"])
    assert {step["Status"] for step in checked["Steps"]} == {"OK"}, checked["Steps"]
    return zone, again["DELIVERY_MODE"], statuses["Notification"], environment["QUEUE_URL"]


def drain(queue_url: str) -> list[dict[str, Any]]:
    sqs, bodies = clients.sqs(), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def events_per_key(queue_url: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for body in drain(queue_url):
        for record in body.get("Records", []):
            key = unquote_plus(record["s3"]["object"]["key"])
            counts[key] = counts.get(key, 0) + 1
    return counts


DELIVERIES: dict[str, Callable[[landing_zone.LandingZone], str]] = {
    "log_file": trail_deliveries.deliver_log_file,
    "digest": trail_deliveries.deliver_digest_file,
    "config_object": lambda zone: trail_deliveries.deliver_config_object(zone)[1],
}


@pytest.mark.parametrize("requested", MODES, ids=[mode.value for mode in MODES])
@pytest.mark.parametrize("generation", GENERATIONS)
def test_each_object_reaches_workbench_as_often_as_the_cell_says(generation: str, requested: DeliveryMode) -> None:
    expected = EXPECTED[(generation, requested)]
    zone, mode, notification, queue_url = onboard(generation, requested)
    drain(queue_url)  # S3's s3:TestEvent for our new destination, which consumers skip

    keys = {name: deliver(zone) for name, deliver in DELIVERIES.items()}
    counts = events_per_key(queue_url)

    found = Cell(mode, notification, *(counts.get(keys[name], 0) for name in DELIVERIES))
    assert found == expected
    assert set(counts) <= set(keys.values()), "an event for an object nobody delivered"
