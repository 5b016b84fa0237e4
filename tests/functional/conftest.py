from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from expel_onboarding import clients
from tests.support.aws_calls import AwsCalls

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and a region, fresh cached clients, and moto behind every call."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    clients.reset()
    with mock_aws():
        boto3.setup_default_session()
        yield
    clients.reset()


@pytest.fixture
def calls() -> AwsCalls:
    """Counts calls of the clients a test creates after asking for this fixture."""
    return AwsCalls().start()
