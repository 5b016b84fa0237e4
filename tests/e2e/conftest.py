from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from expel_onboarding import clients
from localaws import demo, deploy, landing_zone, server


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
    warnings.simplefilter("ignore")
    clients.reset()
    with server.running() as endpoint:
        zone = landing_zone.seed()
        notifications = landing_zone.notifications_of(zone.bucket)
        key_policy = landing_zone.key_policy_of(zone.cloudtrail_key_arn)
        outputs = deploy.deploy(demo.parameters(zone))
        yield Deployed(endpoint, zone, outputs, notifications, key_policy)
    clients.reset()
