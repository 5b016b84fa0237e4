"""The delivery verdict: delivering, lagging or silent since when, and whether Workbench reads its queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from expel_onboarding_cli import health
from expel_onboarding_cli.health import Feed, Observed

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DEPLOYED = NOW - timedelta(days=3)


def seen(
    published: int | None, newest: int | None, waiting: int | None = None, deployed: datetime = DEPLOYED
) -> Observed:
    """What was read, in minutes before NOW."""
    return Observed(
        now=NOW,
        watched_since=deployed,
        last_published=NOW - timedelta(minutes=published) if published is not None else None,
        newest_log=NOW - timedelta(minutes=newest) if newest is not None else None,
        newest_log_key="o-a/AWSLogs/o-a/111111111111/CloudTrail/us-east-1/2026/12/07/f.json.gz",
        oldest_waiting=timedelta(minutes=waiting) if waiting is not None else None,
    )


def test_an_event_within_20_minutes_is_delivering() -> None:
    verdict = health.judge(seen(published=3, newest=4))
    assert (verdict.feed, verdict.healthy) == (Feed.DELIVERING, True)


def test_log_files_landing_after_the_last_event_are_silence_since_that_event() -> None:
    verdict = health.judge(seen(published=45, newest=2))
    assert verdict.feed is Feed.SILENT
    assert verdict.since == NOW - timedelta(minutes=45)
    assert verdict.detail.startswith("Silent since 2026-12-07 11:15 UTC")
    assert verdict.healthy is False


def test_no_event_in_three_hours_while_log_files_land_is_silence_since_the_deploy_at_the_latest() -> None:
    verdict = health.judge(seen(published=None, newest=2))
    assert (verdict.feed, verdict.since) == (Feed.SILENT, DEPLOYED)
    assert "never in the last 3 hours" in verdict.detail


def test_a_trail_that_wrote_nothing_for_long_is_lagging_even_though_nothing_is_owed() -> None:
    verdict = health.judge(seen(published=50, newest=60))
    assert (verdict.feed, verdict.since) == (Feed.LAGGING, NOW - timedelta(minutes=60))
    assert verdict.healthy is False


def test_no_log_file_today_or_yesterday_is_lagging() -> None:
    assert health.judge(seen(published=None, newest=None)).feed is Feed.LAGGING


def test_log_files_older_than_the_deploy_are_not_owed() -> None:
    # Deployed a minute ago, nothing published yet: the newest log file predates the stack.
    verdict = health.judge(seen(published=None, newest=3, deployed=NOW - timedelta(minutes=1)))
    assert verdict.feed is Feed.DELIVERING


def test_a_file_still_in_flight_is_not_silence() -> None:
    # Published 25 minutes ago (past the silence window), newest file 8 minutes after it: still in flight or
    # not yet in the metric, which SNS sends every 5 minutes.
    assert health.judge(seen(published=25, newest=17)).feed is Feed.DELIVERING


def test_right_after_a_deploy_files_not_yet_in_the_metric_are_not_silence() -> None:
    # Deployed 9 minutes ago; a file landed a minute ago; the metric has no event yet.
    verdict = health.judge(seen(published=None, newest=1, deployed=NOW - timedelta(minutes=9)))
    assert verdict.feed is Feed.DELIVERING


@pytest.mark.parametrize(("waiting", "consuming"), [(None, True), (5, True), (60, True), (61, False)])
def test_workbench_is_consuming_while_its_oldest_message_is_an_hour_old_at_most(
    waiting: int | None, consuming: bool
) -> None:
    verdict = health.judge(seen(published=1, newest=1, waiting=waiting))
    assert verdict.consuming is consuming
    assert verdict.healthy is consuming
    assert ("Workbench is not consuming" in verdict.detail) is not consuming


def test_the_verdict_reads_as_json() -> None:
    assert health.judge(seen(published=45, newest=2)).to_dict() == {
        "Feed": "silent",
        "Since": "2026-12-07T11:15:00+00:00",
        "Consuming": True,
        "Detail": health.judge(seen(published=45, newest=2)).detail,
    }
