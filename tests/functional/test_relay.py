"""The relay handler under moto, from the relay queue's SQS event to the S3 events on our queue.

Our topic and its raw-delivery queue come from localaws/stack_resources.py, so the queue receives
exactly what Workbench would. What moto cannot do (refuse a PublishBatch entry) is shown with Stubber.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from expel_onboarding import caches, clients, relay, settings
from expel_onboarding.errors import PublishFailed
from localaws import clients as local_clients
from localaws import deployment, landing_zone, stack_resources
from localaws.aws_calls import AwsCalls
from localaws.lambda_context import FakeContext
from tests.support.cfn_template import ROOT
from tests.support.stubbed import stubbable_client
from tests.support.throttling import Throttle
from tests.support.throttling import answer as throttling_answer

DIGEST = "CloudTrail-Digest"


@dataclass(frozen=True)
class Stack:
    bucket: str
    queue_url: str
    owned_id: str


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def keys_of(event: dict[str, Any]) -> list[str]:
    return [key for record in event["Records"] for key in json.loads(record["body"])["s3ObjectKey"]]


def log_keys_of(event: dict[str, Any]) -> list[str]:
    return [key for key in keys_of(event) if DIGEST not in key]


def run(event: dict[str, Any]) -> dict[str, Any]:
    handler = importlib.import_module("functions.relay.app").lambda_handler
    result: dict[str, Any] = handler(event, FakeContext(function_name="relay"))
    return result


def sqs_event(bucket: str, keys: list[str], message_id: str = "m-1", sent: int = 1748779805123) -> dict[str, Any]:
    record = sample("relay-sqs-batch")["Records"][0]
    body = delivery(bucket, keys)
    attributes = {**record["attributes"], "SentTimestamp": str(sent)}
    return {"Records": [{**record, "messageId": message_id, "body": body, "attributes": attributes}]}


def delivery(bucket: str, keys: list[str]) -> str:
    return json.dumps({"s3Bucket": bucket, "s3ObjectKey": keys})


def put_objects(bucket: str, keys: list[str]) -> None:
    s3 = local_clients.s3()
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b'{"Records":[]}')


def two_messages(stack: Stack) -> tuple[str, str, dict[str, Any]]:
    """Two log files in the bucket, and a batch of two CloudTrail messages naming one each (m-1, m-2)."""
    first, second = log_keys_of(sample("relay-sqs-batch"))[:2]
    put_objects(stack.bucket, [first, second])
    batch = {
        "Records": [
            *sqs_event(stack.bucket, [first], message_id="m-1")["Records"],
            *sqs_event(stack.bucket, [second], message_id="m-2")["Records"],
        ]
    }
    return first, second, batch


def received(queue_url: str) -> list[dict[str, Any]]:
    sqs = local_clients.sqs()
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The landing zone's versioned log bucket, our topic and its raw queue, and the functions' environment."""
    zone = landing_zone.seed()
    environment = stack_resources.deploy_stack_resources(zone)
    # The Globals' Powertools settings too (the relay counts the records it could not relay under them).
    for name, value in {**deployment.GLOBAL_ENVIRONMENT, **environment}.items():
        monkeypatch.setenv(name, value)
    caches.reset()
    local_clients.s3().put_bucket_versioning(Bucket=zone.bucket, VersioningConfiguration={"Status": "Enabled"})
    yield Stack(zone.bucket, environment["QUEUE_URL"], settings.settings().owned_id)
    caches.reset()


def test_the_sample_event_is_about_the_landing_zones_log_bucket(stack: Stack) -> None:
    assert {json.loads(record["body"])["s3Bucket"] for record in sample("relay-sqs-batch")["Records"]} == {stack.bucket}


def test_each_log_file_reaches_our_queue_as_one_raw_s3_event(stack: Stack) -> None:
    event = sample("relay-sqs-batch")
    put_objects(stack.bucket, keys_of(event))

    assert run(event) == {"batchItemFailures": []}

    bodies = received(stack.queue_url)
    assert sorted(body["Records"][0]["s3"]["object"]["key"] for body in bodies) == sorted(log_keys_of(event))
    assert all(len(body["Records"]) == 1 for body in bodies)


def test_the_digest_file_is_not_relayed(stack: Stack) -> None:
    event = sample("relay-sqs-batch")
    put_objects(stack.bucket, keys_of(event))
    run(event)
    assert not [body for body in received(stack.queue_url) if DIGEST in body["Records"][0]["s3"]["object"]["key"]]


def paths(value: Any, at: str = "") -> set[str]:
    """Every key of a JSON document, as dotted paths: s3.object.key, userIdentity.principalId, ..."""
    if not isinstance(value, dict):
        return set()
    return {f"{at}{name}" for name in value} | {p for name, v in value.items() for p in paths(v, f"{at}{name}.")}


def s3s_own_event(bucket: str, key: str) -> dict[str, Any]:
    """The event the local S3 itself sends for an object written to the bucket (the 3.x path's shape)."""
    s3, sqs = local_clients.s3(), local_clients.sqs()
    queue_url = sqs.create_queue(QueueName="s3-own-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    config = {"QueueConfigurations": [{"Id": "probe", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)  # type: ignore[arg-type]
    put_objects(bucket, [key])
    bodies = [body for body in received(queue_url) if "Records" in body]
    return dict(bodies[-1]["Records"][0])


def test_the_event_carries_the_objects_size_etag_version_and_sequencer(stack: Stack) -> None:
    key = log_keys_of(sample("relay-sqs-batch"))[0]
    put_objects(stack.bucket, [key])
    head = local_clients.s3().head_object(Bucket=stack.bucket, Key=key)

    run(sqs_event(stack.bucket, [key], sent=1748779805123))

    [body] = received(stack.queue_url)
    (record,) = body["Records"]
    assert record["eventTime"] == "2025-06-01T12:10:05.123Z"
    assert record["s3"]["configurationId"] == stack.owned_id
    assert record["s3"]["bucket"] == {
        "name": stack.bucket,
        "ownerIdentity": {"principalId": landing_zone.LOG_ARCHIVE},
        "arn": f"arn:aws:s3:::{stack.bucket}",
    }
    assert record["s3"]["object"] == {
        "key": key,
        "size": head["ContentLength"],
        "eTag": head["ETag"].strip('"'),
        "sequencer": f"{int(head['LastModified'].timestamp() * 1000):016X}",
        "versionId": head["VersionId"],
    }


def test_a_relayed_event_has_exactly_the_fields_of_the_events_s3_itself_sends(stack: Stack) -> None:
    key = log_keys_of(sample("relay-sqs-batch"))[0]
    s3_sent = s3s_own_event(stack.bucket, key)
    run(sqs_event(stack.bucket, [key], sent=1748779805123))
    [body] = received(stack.queue_url)
    relayed = body["Records"][0]
    assert paths(relayed) == paths(s3_sent)
    assert relayed["eventVersion"] == s3_sent["eventVersion"]
    assert "s3.object.sequencer" in paths(relayed)
    # What Powertools reads of S3's own event, it reads of ours.
    for record in (relayed, s3_sent):
        parsed = S3Event({"Records": [record]}).record
        assert parsed.user_identity.principal_id
        assert parsed.s3.bucket.owner_identity.principal_id
        assert parsed.s3.get_object.sequencer
        assert parsed.response_elements["x-amz-request-id"] is not None


@pytest.mark.parametrize("count", [1, 10, 25])
def test_a_message_of_n_log_files_costs_n_head_object_and_n_over_10_publish_batch_calls(
    stack: Stack, count: int
) -> None:
    template = log_keys_of(sample("relay-sqs-batch"))[0]
    keys = [template.replace("Mu0KsOhtH1ar15ZZ", f"Unique{index:010d}") for index in range(count)]
    put_objects(stack.bucket, keys)
    calls = AwsCalls().start()

    run(sqs_event(stack.bucket, keys))

    assert calls.count() == {"s3:HeadObject": count, "sns:PublishBatch": math.ceil(count / 10)}
    assert len(received(stack.queue_url)) == count


def test_a_message_about_another_bucket_publishes_nothing(stack: Stack) -> None:
    key = log_keys_of(sample("relay-sqs-batch"))[0]
    calls = AwsCalls().start()
    assert run(sqs_event("someone-elses-bucket", [key])) == {"batchItemFailures": []}
    assert calls.made == []


# What moto cannot do: a PublishBatch entry refused, shown with botocore's Stubber.


@pytest.fixture
def stubbed(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stubber, Stubber]]:
    """The handler's s3 and sns clients, answered by Stubbers instead of moto."""
    s3, sns = stubbable_client("s3"), stubbable_client("sns")
    # Cached like the real factories, so clients.reset() in the conftest's teardown still works.
    monkeypatch.setattr(clients, "s3", cache(lambda: s3))
    monkeypatch.setattr(clients, "sns", cache(lambda: sns))
    with Stubber(s3) as s3_stub, Stubber(sns) as sns_stub:
        yield s3_stub, sns_stub
        s3_stub.assert_no_pending_responses()
        sns_stub.assert_no_pending_responses()


def expect_head(stub: Stubber, bucket: str, key: str) -> None:
    params = {"Bucket": bucket, "Key": key, "ExpectedBucketOwner": landing_zone.LOG_ARCHIVE}
    # HeadObject always answers LastModified (S3 API reference, "HeadObject"): the event's sequencer.
    answer = {"ContentLength": 10, "ETag": '"e7a1"', "LastModified": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)}
    stub.add_response("head_object", answer, params)


def expect_publish(stub: Stubber, count: int, failed: int = 0) -> None:
    successful = [{"Id": str(index), "MessageId": f"id-{index}"} for index in range(count - failed)]
    refused = [
        {"Id": str(index), "Code": "InternalError", "SenderFault": False, "Message": "try again"}
        for index in range(count - failed, count)
    ]
    stub.add_response("publish_batch", {"Successful": successful, "Failed": refused})


def test_a_refused_publish_fails_only_its_own_sqs_record_and_is_counted(
    stack: Stack, stubbed: tuple[Stubber, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    s3_stub, sns_stub = stubbed
    event = sample("relay-sqs-batch")
    first, second = (json.loads(record["body"])["s3ObjectKey"] for record in event["Records"])
    for key in first:
        expect_head(s3_stub, stack.bucket, key)
    expect_publish(sns_stub, len(first))
    for key in second:
        if DIGEST not in key:
            expect_head(s3_stub, stack.bucket, key)
    expect_publish(sns_stub, 1, failed=1)

    capsys.readouterr()
    result = run(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    # Lambda's Errors stays 0 for a partial failure: the relay's own metric, in the embedded metric format.
    (emitted,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emitted["RecordsNotRelayed"] == [1.0]


def test_a_log_file_gone_before_the_relay_read_it_is_skipped(stack: Stack, stubbed: tuple[Stubber, Stubber]) -> None:
    s3_stub, sns_stub = stubbed
    gone, kept = log_keys_of(sample("relay-sqs-batch"))[:2]
    s3_stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
    expect_head(s3_stub, stack.bucket, kept)
    expect_publish(sns_stub, 1)

    outcome = relay.relay(
        clients.s3(), clients.sns(), settings.settings().relay_target(), delivery(stack.bucket, [gone, kept]), 0
    )

    assert outcome.published == (kept,)
    assert [skipped.key for skipped in outcome.skipped] == [gone]


def test_any_other_head_object_error_fails_the_record(stack: Stack, stubbed: tuple[Stubber, Stubber]) -> None:
    s3_stub, _ = stubbed
    key = log_keys_of(sample("relay-sqs-batch"))[0]
    s3_stub.add_client_error("head_object", service_error_code="403", http_status_code=403)

    with pytest.raises(ClientError, match="403"):
        relay.relay(clients.s3(), clients.sns(), settings.settings().relay_target(), delivery(stack.bucket, [key]), 0)


# Every code becomes AwsThrottled in the product's clients (tests/functional/test_throttle_matrix.py); here, what
# the relay does with one, for S3's own throttle, SNS's and a bare 429.
@pytest.mark.parametrize("code", ["SlowDown", "ThrottledException", "429"])
@pytest.mark.parametrize("operation", ["s3:HeadObject"])
def test_a_throttled_head_or_publish_hands_the_message_back_and_its_redelivery_publishes_it_once(
    stack: Stack, operation: str, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    first, second, batch = two_messages(stack)
    AwsCalls().start()
    throttle = Throttle(operation, code).arm()

    # Throttled beyond botocore's retries: the first record fails alone, so SQS delivers it again; never skipped.
    assert run(batch) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert throttle.met == 1
    assert [body["Records"][0]["s3"]["object"]["key"] for body in received(stack.queue_url)] == [second]
    assert not [record for record in caplog.records if record.getMessage() == "object skipped"]

    # Its redelivery, once the throttle is over: one event, not two.
    assert run(sqs_event(stack.bucket, [first], message_id="m-1")) == {"batchItemFailures": []}
    assert [body["Records"][0]["s3"]["object"]["key"] for body in received(stack.queue_url)] == [first]


@pytest.mark.parametrize("code", ["ThrottledException", "429"])
def test_a_throttled_publish_is_published_again_after_a_jittered_wait_and_nothing_is_handed_back(
    stack: Stack, code: str
) -> None:
    first, second, batch = two_messages(stack)
    AwsCalls().start()
    throttle = Throttle("sns:PublishBatch", code, times=2).arm()
    assert run(batch) == {"batchItemFailures": []}
    assert throttle.met == 2
    keys = sorted(body["Records"][0]["s3"]["object"]["key"] for body in received(stack.queue_url))
    assert keys == sorted([first, second])


def test_a_throttle_that_outlasts_the_backoff_hands_back_that_record_and_the_rest_untried(stack: Stack) -> None:
    _, _, batch = two_messages(stack)
    calls = AwsCalls().start()
    throttle = Throttle("sns:PublishBatch", "Throttling", times=1_000).arm()
    # Little time left in the invocation: the backoff gives up at once rather than run past the deadline.
    handler = importlib.import_module("functions.relay.app").lambda_handler
    result = handler(batch, FakeContext(function_name="relay", remaining_ms=2_000))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}
    # The second record was not even tried: SNS was throttling this invocation.
    assert calls.made.count("sns:PublishBatch") == throttle.met == 1
    assert received(stack.queue_url) == []


def test_only_the_entries_sns_throttled_are_published_again() -> None:
    sns = stubbable_client("sns")
    topic = "arn:aws:sns:us-east-1:123456789012:ours"
    waits: list[float] = []
    backoff = relay.Backoff(sleep=waits.append, jitter=lambda low, high: high)
    with Stubber(sns) as stub:
        entries = [{"Id": str(i), "Message": f"m{i}", "Subject": relay.SUBJECT} for i in range(3)]
        stub.add_response(
            "publish_batch",
            {
                "Successful": [{"Id": "0", "MessageId": "a"}, {"Id": "2", "MessageId": "c"}],
                "Failed": [{"Id": "1", "Code": "KMSThrottling", "SenderFault": False}],
            },
            {"TopicArn": topic, "PublishBatchRequestEntries": entries},
        )
        stub.add_response(
            "publish_batch",
            {"Successful": [{"Id": "1", "MessageId": "b"}], "Failed": []},
            {"TopicArn": topic, "PublishBatchRequestEntries": [entries[1]]},
        )
        relay.publish(sns, topic, ["m0", "m1", "m2"], backoff)
        stub.assert_no_pending_responses()
    # Exponential, capped, with full jitter (here at its top): 0.1 * 2 ** 1.
    assert waits == [0.2]


def test_an_entry_sns_refuses_for_good_fails_the_record_at_once() -> None:
    sns = stubbable_client("sns")
    topic = "arn:aws:sns:us-east-1:123456789012:ours"
    with Stubber(sns) as stub:
        stub.add_response(
            "publish_batch",
            {"Successful": [], "Failed": [{"Id": "0", "Code": "InvalidParameter", "SenderFault": True}]},
        )
        with pytest.raises(PublishFailed, match="InvalidParameter"):
            relay.publish(sns, topic, ["m0"], relay.Backoff(sleep=lambda _: pytest.fail("must not wait")))


def test_backoff_waits_exponentially_with_jitter_within_its_attempts_and_the_deadline() -> None:
    waits: list[float] = []
    top = relay.Backoff(sleep=waits.append, jitter=lambda low, high: high, cap_seconds=1.0, attempts=5)
    assert [top.wait(attempt) for attempt in range(1, 6)] == [True, True, True, True, False]
    assert waits == [0.2, 0.4, 0.8, 1.0]
    assert top.exhausted
    late = relay.Backoff(sleep=waits.append, jitter=lambda low, high: high, seconds_left=lambda: 3.1)
    assert late.wait(1) is False


class BurstOfThrottles:
    """SNS throttling a burst: of the first `calls` PublishBatch calls, `share` in every 10 are throttled
    (past botocore's retries), then none."""

    def __init__(self, calls: int, share: int) -> None:
        self.calls, self.share, self.seen, self.throttled = calls, share, 0, 0

    def __call__(self, model: Any, **_: Any) -> Any:
        if f"{model.service_model.service_name}:{model.name}" != "sns:PublishBatch" or self.seen >= self.calls:
            return None
        self.seen += 1
        if self.seen % 10 >= self.share:
            return None
        self.throttled += 1
        return throttling_answer("Throttling")


def test_under_a_burst_of_throttles_every_log_file_reaches_workbench_and_no_message_is_dead_lettered(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = local_clients.sqs()
    relay_url = sqs.get_queue_url(QueueName="expel-cloudtrail-relay")["QueueUrl"]
    dead_url = sqs.get_queue_url(QueueName="expel-cloudtrail-relay-dead-letters")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # As template.yaml's RelayQueue: a message received 5 times goes to the dead-letter queue.
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 5})
    sqs.set_queue_attributes(QueueUrl=relay_url, Attributes={"RedrivePolicy": redrive})
    monkeypatch.setattr(relay, "time", SimpleNamespace(sleep=lambda _: None))  # the waits happen, instantly
    template = sample("relay-sqs-batch")["Records"][0]
    keys = [
        template_key.replace("123456789012_CloudTrail", f"{account:012d}_CloudTrail").replace(
            "/123456789012/", f"/{account:012d}/"
        )
        for account, template_key in enumerate([log_keys_of(sample("relay-sqs-batch"))[0]] * 60, start=1)
    ]
    put_objects(stack.bucket, keys)
    for key in keys:  # as the trail's topic delivers CloudTrail's messages: one per log file
        sqs.send_message(QueueUrl=relay_url, MessageBody=delivery(stack.bucket, [key]))
    burst = BurstOfThrottles(calls=120, share=7)
    (boto3.DEFAULT_SESSION or boto3.Session()).events.register("before-call", burst)

    handler = importlib.import_module("functions.relay.app").lambda_handler
    polls = 0
    # Lambda's poller: receive a batch, invoke, delete what succeeded; the failures come back (at once here).
    while messages := sqs.receive_message(
        QueueUrl=relay_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30
    ).get("Messages", []):
        polls += 1
        records = [
            {
                **template,
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {**template["attributes"], **m["Attributes"]},
            }
            for m in messages
        ]
        result = handler({"Records": records}, FakeContext(function_name="relay"))
        failed = {failure["itemIdentifier"] for failure in result["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(QueueUrl=relay_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=relay_url, ReceiptHandle=m["ReceiptHandle"])
        assert polls < 100

    assert burst.throttled > 20
    delivered = [body["Records"][0]["s3"]["object"]["key"] for body in received(stack.queue_url)]
    # Messages in = S3 events out: every file, and (the throttled entries published again only) once each.
    assert sorted(delivered) == sorted(keys)
    assert sqs.receive_message(QueueUrl=dead_url).get("Messages", []) == []
