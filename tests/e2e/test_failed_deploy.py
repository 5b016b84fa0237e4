"""End to end: a first deploy that fails rolls back and leaves the bucket and the key policy as they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localaws import demo, deploy, landing_zone, stack_parameters
from tests.support.local_aws import local_aws


@pytest.fixture(scope="module")
def zone() -> Iterator[landing_zone.LandingZone]:
    with local_aws():
        yield landing_zone.seed("3")


def test_an_overlapping_foreign_entry_fails_the_deploy_and_the_rollback_leaves_nothing_of_ours(
    zone: landing_zone.LandingZone,
) -> None:
    # Without a prefix our entry would overlap the security-lake team's: KeyPolicy writes, then
    # Notification refuses, and CloudFormation rolls the create back.
    with pytest.raises(deploy.DeployFailed, match="NotificationOverlap") as failed:
        deploy.deploy({**stack_parameters.parameters(zone), "NotificationPrefix": ""})
    assert "ROLLBACK_COMPLETE" in str(failed.value)
    assert landing_zone.notifications_of(zone.bucket) == zone.foreign_notifications
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy


def test_the_next_deploy_after_a_rollback_starts_afresh_and_succeeds(zone: landing_zone.LandingZone) -> None:
    outputs = deploy.deploy(stack_parameters.parameters(zone))
    assert outputs["ActionRequired"] == "none"
    deploy.destroy()
    demo.wait_deleted()
    assert landing_zone.key_policy_of(zone.cloudtrail_key_arn) == zone.foreign_key_policy
