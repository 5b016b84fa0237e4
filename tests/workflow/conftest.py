from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from localaws import deployment, lambda_runtime, landing_zone, service_gaps, stack_resources, state
from tests.support.fake_aws import use_fake_credentials


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto with its Step Functions interpreter on, and Lambda code run in this process."""
    use_fake_credentials(monkeypatch)
    state.reset()
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        lambda_runtime.in_process_lambda(),
        service_gaps.filled(),
    ):
        boto3.setup_default_session()
        yield
    state.reset()


@pytest.fixture
def zone() -> landing_zone.LandingZone:
    return landing_zone.seed()


@pytest.fixture
def stack_environment(zone: landing_zone.LandingZone) -> dict[str, str]:
    return stack_resources.deploy_stack_resources(zone)


@pytest.fixture
def workflow(stack_environment: dict[str, str]) -> deployment.Workflow:
    return deployment.deploy(stack_environment)
