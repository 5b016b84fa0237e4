"""End to end, with the local clock moved forward instead of slept: delivery breaks five ways, and the alarms
and check's delivery verdict flip, each after the simulated minutes the test states, while check's
configuration steps stay green wherever the break is not in what we configured.

Each tick is 5 simulated minutes: CloudTrail writes a log file per active account (the management account
and the Audit account), SQS reports its queues' oldest message, Workbench reads its queue (unless the case
says it stopped), and CloudWatch evaluates the alarms (localaws.alarms)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

import pytest

from expel_onboarding import relay
from expel_onboarding_cli import delivery_report, freshness, replay
from localaws import alarms, clients, clock, demo, deploy, landing_zone, service_metrics, stack_parameters, workbench
from localaws.accounts import AUDIT, LOG_ARCHIVE, MANAGEMENT, REGION
from localaws.cloudtrail_logs import cloudtrail_log_key
from localaws.trail_deliveries import deliver_log_file, organization_trail
from tests.support.local_aws import local_aws

TICK = timedelta(minutes=5)
SILENT, NOT_CONSUMING, RELAY_ERRORS = (
    f"{deploy.STACK}-feed-silent",
    f"{deploy.STACK}-workbench-not-consuming",
    f"{deploy.STACK}-relay-errors",
)
WATCHED = [SILENT, NOT_CONSUMING, RELAY_ERRORS]


@dataclass
class Feed:
    endpoint: str
    zone: landing_zone.LandingZone
    queue_url: str
    workbench: Any  # SQS as Workbench reads it (localaws.workbench)


def tick(feed: Feed, *, consume: bool = True, accounts: tuple[str, ...] = (MANAGEMENT, AUDIT)) -> dict[str, str]:
    clock.advance(TICK)
    prefix = str(organization_trail(feed.zone).get("S3KeyPrefix", ""))
    for account in accounts:
        deliver_log_file(feed.zone, cloudtrail_log_key(prefix, feed.zone.organization_id, clock.now(), account))
    service_metrics.sample_queues(LOG_ARCHIVE, REGION)
    if consume:
        sqs = feed.workbench
        while messages := sqs.receive_message(QueueUrl=feed.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                sqs.delete_message(QueueUrl=feed.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return alarms.evaluate(LOG_ARCHIVE, REGION, WATCHED)


def run_for(feed: Feed, minutes: int, **how: object) -> dict[str, int]:
    """The simulated minute at which each alarm first went to ALARM, over that many minutes of ticks."""
    first: dict[str, int] = {}
    for minute in range(5, minutes + 1, 5):
        for name, state in tick(feed, **how).items():  # type: ignore[arg-type]
            if state == "ALARM":
                first.setdefault(name, minute)
    return first


def checked(feed: Feed) -> tuple[dict[str, str], delivery_report.health.Verdict]:
    """check's configuration statuses, and its delivery verdict at the local clock's now."""
    _, printed = demo.run_cli("check", "--output", "json", endpoint=feed.endpoint)
    summary = json.loads(printed)
    verdict = delivery_report.verdict(
        clients.cloudformation(), clients.cloudwatch(), clients.s3(), deploy.STACK, summary, now=clock.now()
    )
    assert verdict is not None
    return {step["Name"]: step["Status"] for step in summary["Steps"]}, verdict


def healthy(feed: Feed) -> None:
    """Delivering: after half an hour of ticks, no alarm, and check all green."""
    run_for(feed, 30)
    assert alarms.evaluate(LOG_ARCHIVE, REGION, WATCHED) == dict.fromkeys(WATCHED, "OK")
    statuses, verdict = checked(feed)
    assert set(statuses.values()) == {"OK"}, statuses
    assert verdict.healthy, verdict.detail


def onboarded(generation: str) -> Iterator[Feed]:
    """A landing zone of this generation, onboarded and delivering, on a clock the tests move."""
    with local_aws() as endpoint, clock.shifted():
        zone = landing_zone.seed(generation)
        outputs = deploy.deploy(stack_parameters.parameters(zone))
        feed = Feed(endpoint, zone, outputs["SqsUrl"], workbench.sqs(outputs["RoleArn"]))
        healthy(feed)
        yield feed


@pytest.fixture(scope="module")
def three() -> Iterator[Feed]:
    yield from onboarded("3")


def test_our_bucket_entry_removed_silences_the_feed_in_20_minutes(three: Feed) -> None:
    demo.drop_our_entry(three.zone.bucket)
    assert run_for(three, 30) == {SILENT: 20}
    statuses, verdict = checked(three)
    assert statuses["Notification"] == "DRIFTED"
    assert verdict.feed.value == "silent"
    demo.run_cli("repair", endpoint=three.endpoint)
    healthy(three)


def test_the_trails_prefix_moved_silences_the_feed_while_our_own_resources_stay_green(three: Feed) -> None:
    clients.cloudtrail().update_trail(Name=three.zone.trail_arn, S3KeyPrefix="moved")
    assert run_for(three, 30) == {SILENT: 20}
    statuses, verdict = checked(three)
    assert statuses == {"Discover": "ACTION_REQUIRED", "Ownership": "OK", "KeyPolicy": "OK", "Notification": "OK",
                        "Verify": "OK"}  # fmt: skip
    assert verdict.feed.value == "silent"
    clients.cloudtrail().update_trail(Name=three.zone.trail_arn, S3KeyPrefix=three.zone.key_prefix)
    healthy(three)


def test_workbench_not_consuming_alarms_after_an_hour_while_configuration_stays_green(three: Feed) -> None:
    assert run_for(three, 70, consume=False) == {NOT_CONSUMING: 65}
    statuses, verdict = checked(three)
    assert set(statuses.values()) == {"OK"}
    assert (verdict.feed.value, verdict.consuming) == ("delivering", False)
    assert "Workbench is not consuming" in verdict.detail
    healthy(three)


def test_one_account_going_dark_is_named_by_freshness_while_the_feed_stays_healthy(three: Feed) -> None:
    assert run_for(three, 200, accounts=(MANAGEMENT,)) == {}
    statuses, verdict = checked(three)
    assert set(statuses.values()) == {"OK"}
    assert verdict.healthy
    found = freshness.report(
        clients.s3(), three.zone.bucket, f"{three.zone.key_prefix}/AWSLogs/{three.zone.organization_id}/",
        clock.now(), LOG_ARCHIVE, freshness.DEFAULT_THRESHOLD,
    )  # fmt: skip
    assert [(folder.account, folder.region) for folder in found.stale] == [(AUDIT, REGION)]


def test_a_replay_of_one_accounts_hour_gives_workbench_exactly_that_hours_log_files(three: Feed) -> None:
    # An hour without our entry: the files land, and nothing reaches Workbench.
    demo.drop_our_entry(three.zone.bucket)
    start = clock.now()
    run_for(three, 60)
    end = clock.now()
    demo.run_cli("repair", endpoint=three.endpoint)
    healthy(three)
    root = f"{three.zone.key_prefix}/AWSLogs/{three.zone.organization_id}/"
    window = replay.Window(MANAGEMENT, REGION, start, end)
    hour, _ = replay.log_files(clients.s3(), three.zone.bucket, root, window, LOG_ARCHIVE)
    assert len(hour) == 12

    argv = ["replay", "--account", MANAGEMENT, "--log-region", REGION, "--start", start.isoformat()]
    code, printed = demo.run_cli(*argv, "--end", end.isoformat(), "--dry-run", "--json", endpoint=three.endpoint)
    assert (code, json.loads(printed)["Files"], json.loads(printed)["Published"]) == (0, 12, 0)
    code, printed = demo.run_cli(*argv, "--end", end.isoformat(), endpoint=three.endpoint)
    assert code == 0, printed
    assert "reach Workbench a second time" in printed
    received = received_keys(three)
    assert sorted(received) == sorted(file.key for file in hour)


def received_keys(feed: Feed) -> list[str]:
    sqs, queue_url, keys = feed.workbench, feed.queue_url, []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            keys += [unquote_plus(r["s3"]["object"]["key"]) for r in json.loads(message["Body"]).get("Records", [])]
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return keys


@pytest.fixture(scope="module")
def four() -> Iterator[Feed]:
    yield from onboarded("4.0")


def test_a_failing_relay_alarms_at_once_and_the_feed_goes_silent_in_20_minutes(
    four: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_: object) -> None:
        raise PermissionError("the log bucket's key refuses the relay")

    monkeypatch.setattr(relay, "head", refused)
    assert run_for(four, 30) == {RELAY_ERRORS: 5, SILENT: 20}
    statuses, verdict = checked(four)
    assert set(statuses.values()) == {"OK"}
    assert verdict.feed.value == "silent"
    monkeypatch.undo()
    healthy(four)
