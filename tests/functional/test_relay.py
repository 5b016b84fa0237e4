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
from functools import cache
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from expel_onboarding import caches, clients, relay, settings
from localaws import clients as local_clients
from localaws import landing_zone, stack_resources
from localaws.aws_calls import AwsCalls
from localaws.lambda_context import FakeContext
from tests.support.cfn_template import ROOT
from tests.support.stubbed import stubbable_client

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
    for name, value in environment.items():
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


def test_the_event_carries_the_objects_size_etag_and_version(stack: Stack) -> None:
    key = log_keys_of(sample("relay-sqs-batch"))[0]
    put_objects(stack.bucket, [key])
    head = local_clients.s3().head_object(Bucket=stack.bucket, Key=key)

    run(sqs_event(stack.bucket, [key], sent=1748779805123))

    [body] = received(stack.queue_url)
    assert body == {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": landing_zone.REGION,
                "eventTime": "2025-06-01T12:10:05.123Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": stack.owned_id,
                    "bucket": {"name": stack.bucket, "arn": f"arn:aws:s3:::{stack.bucket}"},
                    "object": {
                        "key": key,
                        "size": head["ContentLength"],
                        "eTag": head["ETag"].strip('"'),
                        "versionId": head["VersionId"],
                    },
                },
            }
        ]
    }


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
    stub.add_response("head_object", {"ContentLength": 10, "ETag": '"e7a1"'}, params)


def expect_publish(stub: Stubber, count: int, failed: int = 0) -> None:
    successful = [{"Id": str(index), "MessageId": f"id-{index}"} for index in range(count - failed)]
    refused = [
        {"Id": str(index), "Code": "InternalError", "SenderFault": False, "Message": "try again"}
        for index in range(count - failed, count)
    ]
    stub.add_response("publish_batch", {"Successful": successful, "Failed": refused})


def test_a_refused_publish_fails_only_its_own_sqs_record(stack: Stack, stubbed: tuple[Stubber, Stubber]) -> None:
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

    result = run(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


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
