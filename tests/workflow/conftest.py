from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from expel_onboarding import clients
from localaws import patches
from tests.support import deployment, landing_zone
from tests.support.fake_aws import use_fake_credentials


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto with its Step Functions interpreter on, and Lambda code run in this process."""
    use_fake_credentials(monkeypatch)
    clients.reset()
    patches.forget_organizations()
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        patches.in_process_lambda(),
        patches.control_tower_gaps(),
    ):
        boto3.setup_default_session()
        yield
    clients.reset()
    patches.forget_organizations()


@pytest.fixture
def zone() -> landing_zone.LandingZone:
    return landing_zone.seed()


@pytest.fixture
def stack_environment(zone: landing_zone.LandingZone) -> dict[str, str]:
    return landing_zone.deploy_stack_resources(zone)


@pytest.fixture
def workflow(stack_environment: dict[str, str]) -> deployment.Workflow:
    return deployment.deploy(stack_environment)
