from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from localaws import deploy, landing_zone, stack_parameters
from tests.support.local_aws import local_aws


@dataclass
class Deployed:
    endpoint: str
    zone: landing_zone.LandingZone
    outputs: dict[str, str]
    notifications_before: dict
    key_policy_before: dict


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    """template.yaml deployed on a seeded landing zone in the local AWS, once for the module."""
    with local_aws() as endpoint:
        zone = landing_zone.seed()
        notifications = landing_zone.notifications_of(zone.bucket)
        key_policy = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
        outputs = deploy.deploy(stack_parameters.parameters(zone))
        yield Deployed(endpoint, zone, outputs, notifications, key_policy)
