"""expel-onboarding plan on a landing zone 4.0, and on a local AWS with no landing zone at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from expel_onboarding_cli import cli
from localaws import deploy, landing_zone, stack_parameters
from tests.cli.planning import change, plan, ready, write_management_profile
from tests.support.local_aws import local_aws


@pytest.fixture
def endpoint() -> Iterator[str]:
    with local_aws() as url:
        yield url


def test_on_4_0_the_relay_subscribes_to_the_trails_topic_and_the_bucket_is_not_written(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = landing_zone.seed("4.0")
    delegate = stack_parameters.deploy_org(zone)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    profile = write_management_profile(tmp_path / "credentials")
    code, printed = plan(endpoint, *ready(delegate), "--key-profile", profile)
    assert code == cli.EXIT_OK, printed
    assert "DeliveryMode           trail-topic" in printed
    assert "ok       Ownership" in printed
    assert change(printed, "KeyPolicy").startswith("  change   KeyPolicy")
    notification = change(printed, "Notification")
    assert notification.startswith(f"  change   Notification   {zone.trail_topic_arn}")
    assert "notification configuration is not written" in notification

    # Deployed, the same plan finds the relay subscribed and the statement in place: nothing to change.
    deploy.deploy(stack_parameters.parameters(zone, delegate))
    code, printed = plan(endpoint, *ready(delegate), "--key-profile", profile)
    assert code == cli.EXIT_OK, printed
    assert change(printed, "Notification").startswith(f"  ok       Notification   {zone.trail_topic_arn}")
    assert "subscribed to" in change(printed, "Notification")
    assert change(printed, "KeyPolicy").startswith("  ok       KeyPolicy")


def test_before_a_landing_zone_exists_the_plan_says_there_is_no_organization_and_what_to_do(endpoint: str) -> None:
    code, printed = plan(endpoint)
    assert code == cli.EXIT_ACTION_REQUIRED
    refusal = change(printed, "LogTarget")
    # The organization is read first: the trail's log files are under its id.
    assert "not a member of an AWS Organization" in refusal
    assert "deploy in the Control Tower Log Archive account" in refusal
