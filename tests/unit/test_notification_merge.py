"""The notification document work: our entry in, our entry out, nobody else's touched."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings

from expel_onboarding import notification
from expel_onboarding.notification import Target
from tests.unit.strategies import notification_configs

TARGET = Target(
    bucket="aws-controltower-logs-222233334444-us-east-1",
    bucket_owner="222233334444",
    entry_id="ExpelOnboardingA1B2C3D4E5F6",
    topic_arn="arn:aws:sns:us-east-1:222233334444:expel-cloudtrail-objects",
)
OURS = notification.our_entry(TARGET)
MANY = settings(max_examples=500, deadline=None)


def foreign(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, e) for name, e in notification.entries(config) if e["Id"] != TARGET.entry_id]


def remove_undoes_apply(config: dict[str, Any]) -> None:
    assert notification.remove(notification.merge(config, OURS), TARGET.entry_id) == config


def apply_is_idempotent(config: dict[str, Any]) -> None:
    once = notification.merge(config, OURS)
    assert notification.merge(once, OURS) == once


def apply_never_changes_a_foreign_entry(config: dict[str, Any]) -> None:
    merged = notification.merge(config, OURS)
    assert foreign(merged) == foreign(config)
    assert merged.get("EventBridgeConfiguration") == config.get("EventBridgeConfiguration")
    assert notification.find(merged, TARGET.entry_id) == OURS


def apply_leaves_its_input_alone(config: dict[str, Any]) -> None:
    before = copy.deepcopy(config)
    notification.merge(config, OURS)
    notification.remove(config, TARGET.entry_id)
    assert config == before


# Every property above on the same 500 documents (strategies.py says why).
@MANY
@given(notification_configs())
def test_apply_and_remove_on_any_foreign_configuration(config: dict[str, Any]) -> None:
    """Remove undoes apply, apply is idempotent, no foreign entry changes, the input is left alone."""
    remove_undoes_apply(config)
    apply_is_idempotent(config)
    apply_never_changes_a_foreign_entry(config)
    apply_leaves_its_input_alone(config)


def test_a_stale_entry_of_ours_is_replaced_where_it_stands() -> None:
    stale = {**OURS, "TopicArn": "arn:aws:sns:us-east-1:222233334444:old-topic"}
    other = {"Id": "audit", "TopicArn": "arn:aws:sns:us-east-1:222233334444:audit", "Events": ["s3:ObjectRemoved:*"]}
    merged = notification.merge({"TopicConfigurations": [stale, other]}, OURS)
    assert merged == {"TopicConfigurations": [OURS, other]}


def test_prefix_filter_is_added_when_asked() -> None:
    entry = notification.our_entry(Target(**{**TARGET.__dict__, "prefix": "AWSLogs/o-abc/"}))
    assert entry["Filter"] == {"Key": {"FilterRules": [{"Name": "prefix", "Value": "AWSLogs/o-abc/"}]}}


def test_our_entry_read_back_with_capitalized_rule_names_is_converged() -> None:
    # S3 accepts the lowercase enum and returns "Prefix" (aws/aws-sdk#389).
    target = Target(**{**TARGET.__dict__, "prefix": "AWSLogs/"})
    as_read = notification.our_entry(target)
    as_read["Filter"]["Key"]["FilterRules"][0]["Name"] = "Prefix"
    config = {"TopicConfigurations": [as_read]}
    assert notification.merge(config, notification.our_entry(target)) == config


def test_normalize_drops_response_metadata_and_empty_lists() -> None:
    raw = {"ResponseMetadata": {"HTTPStatusCode": 200}, "QueueConfigurations": [], "EventBridgeConfiguration": {}}
    assert notification.normalize(raw) == {"EventBridgeConfiguration": {}}


def entry(events: list[str], prefix: str = "", suffix: str = "") -> dict[str, Any]:
    rules = [{"Name": "Prefix", "Value": prefix}] if prefix else []
    rules += [{"Name": "Suffix", "Value": suffix}] if suffix else []
    built: dict[str, Any] = {"Id": "theirs", "QueueArn": "arn:aws:sqs:us-east-1:1:q", "Events": events}
    if rules:
        built["Filter"] = {"Key": {"FilterRules": rules}}
    return built


def test_overlap_same_event_and_no_filters() -> None:
    assert notification.overlapping({"QueueConfigurations": [entry(["s3:ObjectCreated:*"])]}, OURS)


def test_overlap_wildcard_covers_a_specific_event() -> None:
    assert notification.overlapping({"QueueConfigurations": [entry(["s3:ObjectCreated:Put"], prefix="AWSLogs/")]}, OURS)


def test_overlap_suffix_filter_still_overlaps_an_unfiltered_entry() -> None:
    assert notification.overlapping({"QueueConfigurations": [entry(["s3:ObjectCreated:*"], suffix=".json.gz")]}, OURS)


def test_no_overlap_on_other_event_types() -> None:
    assert not notification.overlapping({"QueueConfigurations": [entry(["s3:ObjectRemoved:*"])]}, OURS)


def test_no_overlap_on_disjoint_prefixes() -> None:
    ours = notification.our_entry(Target(**{**TARGET.__dict__, "prefix": "AWSLogs/"}))
    assert not notification.overlapping(
        {"QueueConfigurations": [entry(["s3:ObjectCreated:*"], prefix="reports/")]}, ours
    )


def test_no_overlap_on_disjoint_suffixes() -> None:
    theirs = entry(["s3:ObjectCreated:*"], suffix=".csv")
    ours = {**OURS, "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".json.gz"}]}}}
    assert not notification.overlapping({"QueueConfigurations": [theirs]}, ours)


def test_our_own_entry_never_overlaps_itself() -> None:
    assert not notification.overlapping({"TopicConfigurations": [OURS]}, OURS)
