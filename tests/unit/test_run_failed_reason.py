"""What CloudFormation shows of a failed run: 256 characters, and the fix must be among them."""

from __future__ import annotations

from expel_onboarding.errors import NotificationOverlap, RunFailed


def overlap_cause() -> str:
    found = "aws-controltower-logs-123456789012-us-east-1 already sends these events to 'security-lake' " * 3
    error = NotificationOverlap(
        found.strip(), "set the NotificationPrefix parameter to a prefix that entry does not cover."
    )
    return f"NotificationOverlap: {error}"


def test_a_long_cause_keeps_its_fix_and_the_execution_within_256_characters() -> None:
    reason = RunFailed(overlap_cause(), "create-0b1c2d3e").reason()
    assert len(reason) <= RunFailed.REASON_LIMIT
    assert reason.startswith("NotificationOverlap: aws-controltower-logs-")
    assert "To fix it: set the NotificationPrefix parameter to a prefix that entry does not cover." in reason
    assert reason.endswith("(execution create-0b1c2d3e)")


def test_a_short_cause_is_kept_whole() -> None:
    assert (
        RunFailed("BucketNotFound: gone. To fix it: set X.", "e").reason()
        == "BucketNotFound: gone. To fix it: set X. (execution e)"
    )


def test_a_cause_without_a_fix_is_cut_at_the_limit() -> None:
    reason = RunFailed("x" * 400, "e").reason()
    assert len(reason) == RunFailed.REASON_LIMIT
    assert reason.endswith("… (execution e)")
