"""Freshness finds the accounts that went dark; replay refills a gap with the relay's own S3 events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from botocore.stub import Stubber

from expel_onboarding import relay
from expel_onboarding.errors import OnboardingError
from expel_onboarding_cli import freshness, replay
from localaws import clients, clock
from localaws.cloudtrail_logs import cloudtrail_log_key, log_file

BUCKET = "aws-controltower-logs-123456789012-us-east-1"
OWNER = "123456789012"
ORG = "o-a1b2c3d4e5"
ROOT = f"{ORG}/AWSLogs/{ORG}/"


def write(account: str, region: str, ago: timedelta = timedelta(0)) -> str:
    """A log file of account and region, landed `ago` before now (the local clock moved back, then forward)."""
    key = cloudtrail_log_key(ORG, ORG, datetime.now(UTC) - ago, account, region)
    with clock.shifted():
        clock.advance(-ago)
        clients.s3().put_object(Bucket=BUCKET, Key=key, Body=log_file())
    return key


@pytest.fixture
def bucket() -> str:
    clients.s3().create_bucket(Bucket=BUCKET)
    return BUCKET


def test_freshness_lists_the_account_and_region_whose_newest_file_is_older_than_the_threshold(bucket: str) -> None:
    write("111111111111", "us-east-1")
    write("111111111111", "eu-west-1")
    write("222222222222", "us-east-1", ago=timedelta(hours=4))
    write("222222222222", "us-east-1", ago=timedelta(hours=5))
    found = freshness.report(clients.s3(), bucket, ROOT, datetime.now(UTC), OWNER, timedelta(hours=3))
    assert sorted((f.account, f.region) for f in found.folders) == [
        ("111111111111", "eu-west-1"),
        ("111111111111", "us-east-1"),
        ("222222222222", "us-east-1"),
    ]
    ((dark),) = found.stale
    assert (dark.account, dark.region) == ("222222222222", "us-east-1")
    assert datetime.now(UTC) - dark.newest > timedelta(hours=3, minutes=59)  # type: ignore[operator]
    # 1 listing of accounts, 2 of regions, 3 of today's folders: its own cost, counted.
    assert found.list_requests == 6
    assert found.dollars == pytest.approx(6 / 1000 * 0.005)


def test_replay_publishes_one_event_per_log_file_of_the_window_and_nothing_else(bucket: str) -> None:
    sns, sqs = clients.sns(), clients.sqs()
    topic = sns.create_topic(Name="ours")["TopicArn"]
    queue = sqs.create_queue(QueueName="workbench")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    before = write("111111111111", "us-east-1", ago=timedelta(hours=2))
    hour = [write("111111111111", "us-east-1", ago=timedelta(minutes=55 - 5 * n)) for n in range(11)]
    other = write("222222222222", "us-east-1", ago=timedelta(minutes=30))
    now = datetime.now(UTC)
    window = replay.Window("111111111111", "us-east-1", now - timedelta(hours=1), now)

    files, listed = replay.log_files(clients.s3(), bucket, ROOT, window, OWNER)
    target = relay.Target(bucket, OWNER, "us-east-1", "aws", topic, "ExpelOnboardingA1B2C3D4E5F6")
    slept: list[float] = []
    sent = replay.publish(sns, topic, replay.messages(target, files), replay.rate("eu-west-2"), sleep=slept.append)

    assert (sent, listed) == (11, 1)
    received = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            (record,) = json.loads(message["Body"])["Records"]
            received.append(unquote_plus(record["s3"]["object"]["key"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(received) == sorted(hour)
    assert before not in received
    assert other not in received
    # 150 a second in a 300/s region: two batches of 10 and 1 take at least 11/150 s.
    assert sum(slept) > 0


def test_replay_never_publishes_faster_than_half_the_regions_default_quota() -> None:
    assert (replay.rate("us-east-1"), replay.rate("eu-central-1"), replay.rate("eu-west-2")) == (15_000, 750, 150)
    moments = iter([0.0, 0.0, 0.0, 0.0])
    slept: list[float] = []

    class Sns:
        def publish_batch(self, **request: object) -> dict[str, object]:
            return {"Successful": [], "Failed": []}

    replay.publish(Sns(), "t", ["m"] * 30, 150, sleep=slept.append, clock=lambda: next(moments))  # type: ignore[arg-type]
    assert slept == pytest.approx([10 / 150, 20 / 150, 30 / 150])


def test_a_threshold_longer_than_a_day_looks_back_as_far(bucket: str) -> None:
    write("111111111111", "us-east-1", ago=timedelta(days=2))
    found = freshness.report(clients.s3(), bucket, ROOT, datetime.now(UTC), OWNER, timedelta(days=3))
    (folder,) = found.folders
    assert folder.newest is not None
    assert found.stale == []


REPLAY_ROLE = "arn:aws:iam::123456789012:role/expel-onboarding/expel-ReplayRole-ABC"


def test_replay_publishes_as_the_stacks_replay_role_and_says_what_to_ask_for_when_refused() -> None:
    class Session:
        region_name = "eu-west-2"

        def __init__(self, refused: bool) -> None:
            self.refused = refused

        def client(self, service: str, endpoint_url: str | None = None, config: object = None) -> Any:
            sts = boto3.client("sts", region_name="eu-west-2")
            stub = Stubber(sts)
            arguments = {"RoleArn": REPLAY_ROLE, "RoleSessionName": "expel-onboarding-replay"}
            if self.refused:
                stub.add_client_error("assume_role", "AccessDenied", "not authorized", 403, expected_params=arguments)
            else:
                credentials = {"AccessKeyId": "ASIA0000000000000000", "SecretAccessKey": "s", "SessionToken": "t"}
                expiry = {"Expiration": datetime(2026, 12, 7, tzinfo=UTC)}
                stub.add_response("assume_role", {"Credentials": {**credentials, **expiry}}, arguments)
            stub.activate()
            return sts

    publisher = replay.publisher(Session(refused=False), REPLAY_ROLE)  # type: ignore[arg-type]
    assert publisher.get_credentials().access_key == "ASIA0000000000000000"
    with pytest.raises(OnboardingError, match=f"allow you sts:AssumeRole on {REPLAY_ROLE}"):
        replay.publisher(Session(refused=True), REPLAY_ROLE)  # type: ignore[arg-type]
    # A stack from before the replay role: its topic has no such Deny, and replay publishes as you.
    mine = Session(refused=True)
    assert replay.publisher(mine, "") is mine  # type: ignore[arg-type]
