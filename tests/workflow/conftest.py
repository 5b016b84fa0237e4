from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from moto import mock_aws

from expel_onboarding import clients as expel_clients
from expel_onboarding import notification
from expel_onboarding_cli import cli
from localaws import (
    clients,
    deployment,
    lambda_runtime,
    landing_zone,
    product_clients,
    replacements,
    service_gaps,
    stack_resources,
    state,
)
from tests.support.fake_aws import use_fake_credentials


@contextmanager
def workflow_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto with its Step Functions interpreter on, and Lambda code run in this process."""
    use_fake_credentials(monkeypatch)
    state.reset()
    with (
        service_gaps.filled(),
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        lambda_runtime.in_process_lambda(),
    ):
        product_clients.made_on(clients.keep_default_session())
        yield
    state.reset()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A local AWS of its own for each test (a module may share one instead: see test_whole_run_faults)."""
    with workflow_aws(monkeypatch):
        yield


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The ASL's Retry intervals are real seconds in moto's interpreter, and so are the notification step's
    backoff and the CLI's polls: the retries and polls themselves still run (the ASL's intervals are held
    by tests/template/test_orchestration_contract.py, the backoff by the notification step's own tests)."""
    monkeypatch.setattr(notification, "BACKOFF_BASE_SECONDS", 0.0)
    # The run goes on in moto's threads meanwhile: a poll still yields to them, briefly.
    monkeypatch.setattr(cli, "time", SimpleNamespace(sleep=lambda _: time.sleep(0.02)))
    # A throttled start (the bridge's, the CLI's) is made again after a backoff of seconds: here at once.
    monkeypatch.setattr(expel_clients, "time", SimpleNamespace(sleep=lambda _: None))
    with replacements.applied("step-functions-retries-without-waits"):
        yield


@pytest.fixture
def zone() -> landing_zone.LandingZone:
    return landing_zone.seed()


@pytest.fixture
def stack_environment(zone: landing_zone.LandingZone) -> dict[str, str]:
    return stack_resources.deploy_stack_resources(zone)


@pytest.fixture
def workflow(stack_environment: dict[str, str]) -> deployment.Workflow:
    return deployment.deploy(stack_environment)
