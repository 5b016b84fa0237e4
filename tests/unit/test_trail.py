"""The organization trail: where its log files land, which notification prefixes fit, and what moved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expel_onboarding import trail
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import NotificationPrefixCannotMatch
from expel_onboarding.trail import TrailRecord

ORG = "o-a1b2c3d4e5"
ACCOUNT = "111122223333"
ROOT = f"{ORG}/AWSLogs/{ORG}/"
BUILT = TrailRecord(
    trail_arn=f"arn:aws:cloudtrail:us-east-1:999988887777:trail/{ORG}/aws-controltower-BaselineCloudTrail",
    bucket="aws-controltower-logs-222233334444-us-east-1",
    key_prefix=ORG,
    kms_key_id="arn:aws:kms:us-east-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    topic_arn="arn:aws:sns:us-east-1:333344445555:aws-controltower-AllConfigNotifications",
    home_region="us-east-1",
    organization_id=ORG,
    revision="1",
)

digits = "0123456789"
alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
key_prefixes = st.sampled_from(["", ORG, "logs/team", "/cloudtrail/"])
org_ids = st.sampled_from([ORG, "o-exampleorgid", "o-0123456789"])
accounts = st.text(alphabet=digits, min_size=12, max_size=12)
regions = st.sampled_from(["us-east-1", "eu-west-2", "ap-southeast-2", "us-gov-west-1", "cn-northwest-1"])
dates = st.dates(min_value=date(2013, 11, 13), max_value=date(2099, 12, 31))  # CloudTrail's years
minutes = st.tuples(st.integers(0, 23), st.integers(0, 59))
uniques = st.text(alphabet=alnum, min_size=16, max_size=16)


@st.composite
def log_keys(draw: st.DrawFn) -> tuple[str, str]:
    """A log root and the key of a log file CloudTrail writes under it ("Finding your CloudTrail log files")."""
    root = trail.log_root(draw(key_prefixes), draw(org_ids))
    account, region, day, (hour, minute) = draw(accounts), draw(regions), draw(dates), draw(minutes)
    stamp = f"{day:%Y%m%d}T{hour:02d}{minute:02d}Z"
    name = f"{account}_CloudTrail_{region}_{stamp}_{draw(uniques)}.json.gz"
    return root, f"{root}{account}/CloudTrail/{region}/{day:%Y/%m/%d}/{name}"


@given(log_keys())
@settings(max_examples=200, deadline=None)
def test_every_prefix_of_a_real_log_key_can_match(drawn: tuple[str, str]) -> None:
    # Given a log file key under its root
    root, key = drawn
    # When / Then every cut of the key, and the key itself, is a prefix some log file can start with
    assert all(trail.can_match(key[:i], root) for i in range(len(key) + 1))


@pytest.mark.parametrize(
    "prefix",
    [
        "AWSLogs/",
        f"AWSLogs/{ORG}/",
        f"{ORG}/AWSLogs/{ACCOUNT}/",
        f"{ROOT}{ACCOUNT}/CloudTrail-Digest/",
        f"{ROOT}{ACCOUNT}/Config/",
        "reports/",
        f"{ROOT}123/",
        f"{ROOT}{ACCOUNT}/CloudTrail/us-east-1/2025/06/01/{ACCOUNT}_CloudTrail_us-east-1_x.json.gz/",
    ],
    ids=[
        "no key prefix nor org",
        "no key prefix",
        "no org id level",
        "digest files",
        "config files",
        "another folder",
        "short account",
        "deeper than any key",
    ],
)
def test_a_prefix_no_log_key_starts_with_cannot_match(prefix: str) -> None:
    assert not trail.can_match(prefix, ROOT)


def test_the_log_root_without_a_key_prefix_starts_at_awslogs() -> None:
    assert trail.log_root("", ORG) == f"AWSLogs/{ORG}/"


def test_the_log_root_strips_slashes_around_the_key_prefix() -> None:
    assert trail.log_root("/logs/team/", ORG) == f"logs/team/AWSLogs/{ORG}/"


@pytest.mark.parametrize(
    ("revision", "following"), [("1", "2"), ("41", "42"), ("abc", "abc-2"), ("abc-2", "abc-3"), ("x" * 64, "2")]
)
def test_the_next_revision_differs_from_the_current_one(revision: str, following: str) -> None:
    assert trail.next_revision(revision) == following


def test_a_record_survives_its_json() -> None:
    assert TrailRecord.parse(BUILT.to_json()) == BUILT


def test_an_empty_record_text_is_the_empty_record() -> None:
    assert TrailRecord.parse("") == TrailRecord()


def test_a_record_reads_describe_trails_field_names() -> None:
    # Given a trail as DescribeTrails returns it
    described = {
        "TrailARN": BUILT.trail_arn,
        "S3BucketName": BUILT.bucket,
        "S3KeyPrefix": BUILT.key_prefix,
        "KmsKeyId": BUILT.kms_key_id,
        "SnsTopicARN": BUILT.topic_arn,
        "HomeRegion": BUILT.home_region,
        "IsOrganizationTrail": True,
    }
    # When it is recorded / Then every field lands where the stack keeps it
    assert TrailRecord.of(described, ORG, revision="1") == BUILT


def test_changes_name_each_field_that_differs() -> None:
    now = TrailRecord(bucket="b2", key_prefix="", kms_key_id="k2", topic_arn="", home_region="eu-west-1")
    before = TrailRecord(bucket="b1", key_prefix="p", kms_key_id="", topic_arn="t1", home_region="us-east-1")
    assert before.changes(now) == [
        "bucket: b1 -> b2",
        "key prefix: p -> (none)",
        "KMS key: (none) -> k2",
        "SNS topic: t1 -> (none)",
        "home region: us-east-1 -> eu-west-1",
    ]


def test_an_unchanged_trail_has_no_changes() -> None:
    assert BUILT.changes(BUILT) == []


def test_a_stack_without_a_trail_record_never_moved() -> None:
    assert trail.moved_since(TrailRecord(), None, DeliveryMode.BUCKET_NOTIFICATION, "") is None


def test_an_unchanged_trail_has_not_moved() -> None:
    assert trail.moved_since(BUILT, BUILT, DeliveryMode.BUCKET_NOTIFICATION, ROOT) is None


def test_a_moved_key_prefix_under_the_default_prefix_needs_only_a_new_revision() -> None:
    # Given a stack built for prefix a, whose bucket entry notifies under a's root (NotificationPrefix empty)
    built, now = replace(BUILT, key_prefix="a"), replace(BUILT, key_prefix="b")
    # When the trail, now on b, is compared
    moved = trail.moved_since(built, now, DeliveryMode.BUCKET_NOTIFICATION, built.log_root)
    # Then the change and where the files went are named; reading the trail again follows them by itself
    assert moved is not None
    assert moved.changes == ["key prefix: a -> b", f"log files: under a/AWSLogs/{ORG}/ -> under b/AWSLogs/{ORG}/"]
    assert moved.detail.endswith("sam deploy --parameter-overrides LogTargetRevision=2")


def test_a_moved_key_prefix_under_a_given_prefix_names_the_new_notification_prefix() -> None:
    built, now = replace(BUILT, key_prefix="a"), replace(BUILT, key_prefix="b")
    given = f"{built.log_root}111122223333/"
    moved = trail.moved_since(built, now, DeliveryMode.BUCKET_NOTIFICATION, given)
    assert moved is not None
    assert moved.detail.endswith(
        f"sam deploy --parameter-overrides LogTargetRevision=2 NotificationPrefix={now.log_root}"
    )


@pytest.mark.parametrize("mode", [DeliveryMode.TRAIL_TOPIC, DeliveryMode.BUCKET_NOTIFICATION])
def test_a_moved_key_prefix_that_delivery_survives_says_so(mode: DeliveryMode) -> None:
    built, now = replace(BUILT, key_prefix="a"), replace(BUILT, key_prefix="b")
    moved = trail.moved_since(built, now, mode, "")
    assert moved is not None
    assert "): delivery goes on, since" in moved.detail


def test_a_new_home_region_names_the_region_to_deploy_in() -> None:
    moved = trail.moved_since(BUILT, replace(BUILT, home_region="eu-west-1"), DeliveryMode.TRAIL_TOPIC, "")
    assert moved is not None
    assert "sam deploy --region eu-west-1" in moved.detail


def test_a_moved_bucket_names_the_new_bucket_in_the_command() -> None:
    moved = trail.moved_since(BUILT, replace(BUILT, bucket="another-log-bucket"), DeliveryMode.TRAIL_TOPIC, "")
    assert moved is not None
    assert moved.detail.endswith("LogTargetRevision=2 LogBucketName=another-log-bucket")


def test_a_moved_bucket_says_the_files_left_the_watched_bucket() -> None:
    now = replace(BUILT, bucket="another-log-bucket")
    moved = trail.moved_since(BUILT, now, DeliveryMode.BUCKET_NOTIFICATION, "")
    assert moved is not None
    assert f"log files no longer land in {BUILT.bucket}" in moved.detail


def test_a_new_topic_in_trail_topic_mode_says_the_relay_listens_to_the_old_one() -> None:
    now = replace(BUILT, topic_arn="arn:aws:sns:us-east-1:222233334444:new")
    moved = trail.moved_since(BUILT, now, DeliveryMode.TRAIL_TOPIC, "")
    assert moved is not None
    assert f"the relay listens to {BUILT.topic_arn}, where the trail no longer publishes" in moved.detail


def test_a_new_topic_in_bucket_notification_mode_keeps_the_bucket_entry() -> None:
    now = replace(BUILT, topic_arn="arn:aws:sns:us-east-1:222233334444:new")
    moved = trail.moved_since(BUILT, now, DeliveryMode.BUCKET_NOTIFICATION, "")
    assert moved is not None
    assert "the relay beside it would deliver every file twice" in moved.detail
    assert "DeliveryMode=trail-topic" not in moved.detail


def test_a_vanished_trail_says_no_organization_trail_is_visible() -> None:
    moved = trail.moved_since(BUILT, None, DeliveryMode.BUCKET_NOTIFICATION, ROOT)
    assert moved is not None
    assert "no organization trail visible" in moved.detail
    assert moved.detail.endswith("sam deploy --parameter-overrides LogTargetRevision=2")


def test_a_prefix_outside_the_log_root_is_refused_with_the_root_as_fix() -> None:
    with pytest.raises(NotificationPrefixCannotMatch) as refused:
        trail.refuse_unmatched_prefix("AWSLogs/", BUILT)
    assert refused.value.fix.startswith(f"set NotificationPrefix={ROOT}")


@pytest.mark.parametrize("prefix", ["", ROOT, f"{ROOT}{ACCOUNT}/CloudTrail/"], ids=["empty", "root", "deeper"])
def test_an_empty_or_fitting_prefix_is_accepted(prefix: str) -> None:
    trail.refuse_unmatched_prefix(prefix, BUILT)
