"""End to end: onboarded on a 3.x landing zone, which is then upgraded to 4.0. Tests run in order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from localaws import demo, deploy, landing_zone, stack_parameters
from tests.support.local_aws import local_aws


@dataclass
class Upgraded:
    endpoint: str
    zone: landing_zone.LandingZone
    notifications_before: dict
    notifications_onboarded: dict
    key_policy_before: dict


@pytest.fixture(scope="module")
def upgraded() -> Iterator[Upgraded]:
    with local_aws() as endpoint:
        zone = landing_zone.seed("3")
        notifications = landing_zone.notifications_of(zone.bucket)
        key_policy = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
        outputs = deploy.deploy(stack_parameters.parameters(zone))
        assert outputs["DeliveryMode"].startswith("bucket-notification")
        onboarded = landing_zone.notifications_of(zone.bucket)
        yield Upgraded(endpoint, landing_zone.upgrade(zone), notifications, onboarded, key_policy)


def test_after_the_upgrade_check_passes_and_offers_trail_topic(upgraded: Upgraded) -> None:
    code, printed = demo.run_cli("check", endpoint=upgraded.endpoint)
    assert code == 0, printed
    assert "DeliveryMode=trail-topic" in printed
    assert upgraded.zone.trail_topic_arn in printed


def test_after_the_upgrade_the_stack_still_deletes_and_our_entry_stays_where_no_role_of_ours_may_remove_it(
    upgraded: Upgraded,
) -> None:
    deploy.destroy()
    demo.wait_deleted()
    assert landing_zone.key_policy_of(upgraded.zone.cloudtrail_key_arn) == upgraded.key_policy_before
    # CT.S3.PV.8 refused the removal: the bucket keeps what it had after onboarding, nothing else changed.
    assert landing_zone.notifications_of(upgraded.zone.bucket) == upgraded.notifications_onboarded
