"""clients.py makes every boto3 client; a KMS client is made in the region its key lives in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from expel_onboarding import clients


@pytest.fixture(autouse=True)
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Any other region in the environment: the key's region must win over it.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    clients.reset()
    yield
    clients.reset()


def test_a_kms_client_for_a_key_is_in_the_keys_region() -> None:
    kms = clients.kms("arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert kms.meta.region_name == "eu-west-1"


def test_keys_of_one_region_share_a_client_and_other_regions_get_their_own() -> None:
    first = clients.kms("arn:aws:kms:ap-southeast-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    second = clients.kms("arn:aws:kms:ap-southeast-2:222222222222:key/mrk-0123456789abcdef0123456789abcdef")
    other = clients.kms("arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert first is second
    assert other.meta.region_name == "us-west-2"
