"""The relay's document work: which keys are log files, the S3 record it writes, how it batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event
from hypothesis import given, settings
from hypothesis import strategies as st

from expel_onboarding import relay
from expel_onboarding.errors import PublishFailed
from expel_onboarding.relay import ObjectHead, Target
from tests.support.cfn_template import ROOT

TARGET = Target(
    bucket="aws-controltower-logs-222233334444-us-east-1",
    bucket_owner="222233334444",
    region="us-east-1",
    partition="aws",
    topic_arn="arn:aws:sns:us-east-1:222233334444:expel-cloudtrail-objects",
    configuration_id="ExpelOnboardingA1B2C3D4E5F6",
)
ORG = "o-exampleorgid"
DAY = "2025/06/01"
LOG = (
    f"AWSLogs/{ORG}/111122223333/CloudTrail/us-east-2/{DAY}/"
    "111122223333_CloudTrail_us-east-2_20250601T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
)
HEAD = ObjectHead(
    size=2048,
    etag="d41d8cd98f00b204e9800998ecf8427e",
    version_id="3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
    last_modified_ms=1748779805123,
    request_id="C3D13FE58DE4C810",
    host_id="FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
)
SENT = 1748779805123


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


class RecordingSns:
    """Answers PublishBatch with every entry successful, and remembers each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def publish_batch(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        entries = request["PublishBatchRequestEntries"]
        return {"Successful": [{"Id": entry["Id"], "MessageId": entry["Id"]} for entry in entries], "Failed": []}


# Which keys are CloudTrail log files


@pytest.mark.parametrize(
    "key",
    [
        LOG,
        f"{ORG}/{LOG}",
        f"AWSLogs/111122223333/CloudTrail/eu-west-1/{DAY}/111122223333_CloudTrail_eu-west-1_20250601T2355Z_a1B2c3D4e5F6g7H8.json.gz",
        f"logs/team/AWSLogs/111122223333/CloudTrail/us-gov-west-1/{DAY}/111122223333_CloudTrail_us-gov-west-1_20250601T0000Z_Mu0KsOhtH1ar15ZZ.json.gz",
    ],
    ids=["organization trail", "control tower prefix", "account trail", "prefix with folders"],
)
def test_a_cloudtrail_log_file_is_kept(key: str) -> None:
    assert relay.is_log_object(key)


@pytest.mark.parametrize(
    "key",
    [
        f"{ORG}/AWSLogs/{ORG}/111122223333/CloudTrail-Digest/us-east-2/{DAY}/"
        "111122223333_CloudTrail-Digest_us-east-2_aws-controltower-BaselineCloudTrail_us-east-2_20250601T021500Z.json.gz",
        f"AWSLogs/{ORG}/111122223333/CloudTrail-Insight/us-east-2/{DAY}/"
        "111122223333_CloudTrail-Insight_us-east-2_20250601T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
        f"AWSLogs/{ORG}/111122223333/Config/us-east-2/{DAY}/ConfigSnapshot/111122223333_Config_us-east-2.json.gz",
        f"AWSLogs/{ORG}/111122223333/CloudTrail/us-east-2/{DAY}/111122223333_CloudTrail_us-east-2_20250601T0210Z_x.json",
        f"AWSLogs/{ORG}/111122223333/CloudTrail/us-east-2/{DAY}/",
        "reports/111122223333_CloudTrail_us-east-2_20250601T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
        f"AWSLogs/{ORG}/111122223333/CloudTrail/us-east-2/{DAY}/111122223333_CloudTrail_us-east-2_20250601T0210Z_x.json.gz.tmp",
    ],
    ids=["digest", "insight", "config", "not json.gz", "folder marker", "outside AWSLogs", "suffix after json.gz"],
)
def test_anything_but_a_log_file_is_skipped(key: str) -> None:
    assert not relay.is_log_object(key)


# Reading the SQS body


def test_a_cloudtrail_delivery_message_is_read_with_its_bucket_and_keys() -> None:
    body = json.dumps({"s3Bucket": TARGET.bucket, "s3ObjectKey": [LOG, LOG + "2"]})
    assert relay.parse(body) == relay.Delivery(TARGET.bucket, (LOG, LOG + "2"))


def test_the_sample_event_holds_cloudtrail_delivery_messages() -> None:
    bodies = [record["body"] for record in sample("relay-sqs-batch")["Records"]]
    assert all(relay.parse(body) is not None for body in bodies)


@pytest.mark.parametrize(
    "body",
    [
        '{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"aws-controltower-logs-222233334444-us-east-1"}',
        "CloudTrail validation message.",
        "[]",
        '{"s3Bucket":"bucket"}',
        '{"s3Bucket":"bucket","s3ObjectKey":"AWSLogs/one-key-not-a-list.json.gz"}',
        '{"s3Bucket":"bucket","s3ObjectKey":[1,2]}',
        '{"Type":"Notification","Message":"{\\"s3Bucket\\":\\"bucket\\",\\"s3ObjectKey\\":[]}"}',
    ],
    ids=["s3 test event", "plain text", "a list", "no keys", "keys not a list", "keys not strings", "sns envelope"],
)
def test_a_body_that_is_not_a_delivery_message_is_not_read(body: str) -> None:
    assert relay.parse(body) is None


def test_a_message_that_is_not_a_delivery_is_skipped_without_any_call() -> None:
    outcome = relay.relay(None, None, TARGET, "CloudTrail validation message.", SENT)  # type: ignore[arg-type]
    assert outcome.published == ()
    assert len(outcome.skipped) == 1


def test_a_message_about_another_bucket_is_skipped_without_any_call() -> None:
    body = json.dumps({"s3Bucket": "someone-elses-bucket", "s3ObjectKey": [LOG]})
    outcome = relay.relay(None, None, TARGET, body, SENT)  # type: ignore[arg-type]
    assert outcome.published == ()
    assert [skipped.key for skipped in outcome.skipped] == [LOG]
    assert "someone-elses-bucket" in outcome.skipped[0].reason


class LandedAt:
    """An S3 client whose HeadObject says the object landed at a given time."""

    def __init__(self, landed_ms: int) -> None:
        self.landed_ms = landed_ms

    def head_object(self, **_: Any) -> dict[str, Any]:
        landed = datetime.fromtimestamp(self.landed_ms / 1000, UTC)
        return {"ContentLength": 1, "ETag": '"e"', "LastModified": landed, "ResponseMetadata": {}}


def test_a_message_naming_a_file_that_landed_over_an_hour_before_it_is_skipped_as_stale() -> None:
    sns = RecordingSns()
    body = json.dumps({"s3Bucket": TARGET.bucket, "s3ObjectKey": [LOG]})
    outcome = relay.relay(LandedAt(SENT - 2 * 3600 * 1000), sns, TARGET, body, SENT)  # type: ignore[arg-type]
    assert outcome.published == ()
    (skipped,) = outcome.skipped
    assert skipped.stale
    assert "over an hour before the message naming it" in skipped.reason
    assert sns.calls == []


def test_a_message_minutes_after_its_file_landed_is_relayed() -> None:
    sns = RecordingSns()
    body = json.dumps({"s3Bucket": TARGET.bucket, "s3ObjectKey": [LOG]})
    outcome = relay.relay(LandedAt(SENT - 5 * 60 * 1000), sns, TARGET, body, SENT)  # type: ignore[arg-type]
    assert outcome.published == (LOG,)
    assert len(sns.calls) == 1


# The S3 record


def test_the_record_has_every_field_of_s3s_event_message_structure() -> None:
    record = relay.s3_record(TARGET, LOG, HEAD, relay.event_time(SENT))
    assert record == {
        "eventVersion": "2.5",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2025-06-01T12:10:05.123Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "cloudtrail.amazonaws.com"},
        "requestParameters": {"sourceIPAddress": "cloudtrail.amazonaws.com"},
        "responseElements": {"x-amz-request-id": HEAD.request_id, "x-amz-id-2": HEAD.host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "ExpelOnboardingA1B2C3D4E5F6",
            "bucket": {
                "name": "aws-controltower-logs-222233334444-us-east-1",
                "ownerIdentity": {"principalId": "222233334444"},
                "arn": "arn:aws:s3:::aws-controltower-logs-222233334444-us-east-1",
            },
            "object": {
                "key": LOG,
                "size": 2048,
                "eTag": HEAD.etag,
                "sequencer": "000001972B6629C3",
                "versionId": HEAD.version_id,
            },
        },
    }


def test_the_sequencer_orders_the_events_of_a_key_by_when_s3_stored_it() -> None:
    earlier, later = relay.sequencer(1748779805123), relay.sequencer(1748779805124)
    assert earlier < later
    assert int(earlier, 16) == 1748779805123


def test_powertools_reads_every_property_of_a_relayed_event() -> None:
    event = S3Event(json.loads(relay.message(relay.s3_record(TARGET, LOG, HEAD, relay.event_time(SENT)))))
    record = event.record
    assert (record.event_version, record.event_source, record.aws_region) == ("2.5", "aws:s3", "us-east-1")
    assert (record.event_time, record.event_name) == ("2025-06-01T12:10:05.123Z", "ObjectCreated:Put")
    assert record.user_identity.principal_id == "cloudtrail.amazonaws.com"
    assert record.request_parameters.source_ip_address == "cloudtrail.amazonaws.com"
    assert record.response_elements == {"x-amz-request-id": HEAD.request_id, "x-amz-id-2": HEAD.host_id}
    assert (record.s3.s3_schema_version, record.s3.configuration_id) == ("1.0", TARGET.configuration_id)
    bucket = record.s3.bucket
    assert (bucket.name, bucket.arn, bucket.owner_identity.principal_id) == (
        TARGET.bucket,
        f"arn:aws:s3:::{TARGET.bucket}",
        TARGET.bucket_owner,
    )
    obj = record.s3.get_object
    assert (obj.key, obj.size, obj.etag, obj.version_id, obj.sequencer) == (
        LOG,
        2048,
        HEAD.etag,
        HEAD.version_id,
        "000001972B6629C3",
    )
    assert (event.bucket_name, event.object_key) == (TARGET.bucket, LOG)
    assert record.glacier_event_data is None


def test_the_record_names_no_version_when_the_bucket_gave_none() -> None:
    record = relay.s3_record(TARGET, LOG, ObjectHead(size=1, etag="e"), relay.event_time(SENT))
    assert "versionId" not in record["s3"]["object"]


def test_the_bucket_arn_is_in_the_stacks_partition() -> None:
    gov = Target(**{**TARGET.__dict__, "partition": "aws-us-gov", "region": "us-gov-west-1"})
    record = relay.s3_record(gov, LOG, HEAD, relay.event_time(SENT))
    assert record["s3"]["bucket"]["arn"] == f"arn:aws-us-gov:s3:::{TARGET.bucket}"
    assert record["awsRegion"] == "us-gov-west-1"


def test_the_event_time_keeps_milliseconds_in_utc() -> None:
    assert relay.event_time(0) == "1970-01-01T00:00:00.000Z"
    assert relay.event_time(1748779805007) == "2025-06-01T12:10:05.007Z"


def test_the_key_is_form_encoded_as_s3_does_with_slashes_kept() -> None:
    assert relay.encode_key("AWSLogs/red flower.jpg") == "AWSLogs/red+flower.jpg"
    assert relay.encode_key("year=2025/a:b+c.json.gz") == "year%3D2025/a%3Ab%2Bc.json.gz"
    assert relay.encode_key(LOG) == LOG


# Every character UTF-8 encodes (any an S3 key may hold): text()'s own default alphabet, but named by
# category (all but surrogates), which Hypothesis reads from a table; its codec alphabet tries each of the
# 1.1 million code points on the codec first, about 3 s in each worker of a fresh clone.
KEY_CHARACTERS = st.characters(codec=None, exclude_categories=["Cs"])


@given(st.text(KEY_CHARACTERS, min_size=1, max_size=200))
def test_the_encoded_key_decodes_back_to_the_key(key: str) -> None:
    assert unquote_plus(relay.encode_key(key)) == key


def test_the_message_is_a_records_list_of_one_as_s3_publishes() -> None:
    record = relay.s3_record(TARGET, LOG, HEAD, relay.event_time(SENT))
    assert json.loads(relay.message(record)) == {"Records": [record]}


# Publishing in batches


def test_25_messages_take_three_publish_batch_calls_of_10_10_and_5() -> None:
    sns = RecordingSns()
    relay.publish(sns, TARGET.topic_arn, [f"message {index}" for index in range(25)])  # type: ignore[arg-type]
    assert [len(call["PublishBatchRequestEntries"]) for call in sns.calls] == [10, 10, 5]
    assert {call["TopicArn"] for call in sns.calls} == {TARGET.topic_arn}


def test_entry_ids_are_unique_within_each_batch() -> None:
    sns = RecordingSns()
    relay.publish(sns, TARGET.topic_arn, [f"message {index}" for index in range(25)])  # type: ignore[arg-type]
    for call in sns.calls:
        ids = [entry["Id"] for entry in call["PublishBatchRequestEntries"]]
        assert len(set(ids)) == len(ids)


def test_no_messages_make_no_call() -> None:
    sns = RecordingSns()
    relay.publish(sns, TARGET.topic_arn, [])  # type: ignore[arg-type]
    assert sns.calls == []


def test_a_failed_entry_raises_so_the_record_is_delivered_again() -> None:
    class RefusingSns:
        def publish_batch(self, **request: Any) -> dict[str, Any]:
            return {"Successful": [], "Failed": [{"Id": "0", "Code": "KMSAccessDenied", "SenderFault": True}]}

    with pytest.raises(PublishFailed, match="KMSAccessDenied"):
        relay.publish(RefusingSns(), TARGET.topic_arn, ["message"])  # type: ignore[arg-type]


def test_large_messages_are_cut_by_the_256_kib_batch_limit_before_the_10_entry_one() -> None:
    big = "x" * (60 * 1024)
    assert [len(batch) for batch in relay.batches([big] * 10)] == [4, 4, 2]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=relay.MAX_BATCH_BYTES // 3), max_size=60))
def test_batches_keep_both_limits_and_cover_every_message_once_in_order(sizes: list[int]) -> None:
    messages = [f"{index:04d}".ljust(size, "x") for index, size in enumerate(sizes)]
    cut = list(relay.batches(messages))
    assert [text for batch in cut for text in batch] == messages
    for batch in cut:
        assert 1 <= len(batch) <= relay.MAX_BATCH_ENTRIES
        assert sum(len(text) + len(relay.SUBJECT) for text in batch) <= relay.MAX_BATCH_BYTES
