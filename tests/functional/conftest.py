from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from localaws import clients, product_clients, service_gaps, state
from localaws.aws_calls import AwsCalls
from tests.support.fake_aws import use_fake_credentials


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and a region, fresh cached clients, and moto behind every call."""
    use_fake_credentials(monkeypatch)
    state.reset()
    with service_gaps.filled(), mock_aws():
        product_clients.made_on(clients.keep_default_session())
        yield
    state.reset()


@pytest.fixture
def calls() -> AwsCalls:
    """Counts calls of the clients a test creates after asking for this fixture."""
    return AwsCalls().start()
