"""The product's cached clients outlive a test, as a Lambda container's outlive an invocation, only while
they are what the next test would make: the same boto3 session in the same AWS environment."""

from __future__ import annotations

from collections.abc import Mapping

import boto3
import pytest

from expel_onboarding import clients as product
from expel_onboarding import settings
from localaws import clients, product_clients, state
from localaws.aws_calls import AwsCalls


def next_test() -> None:
    """What the fixtures do between two tests: reset, then hand out the kept session again."""
    state.reset()
    product_clients.made_on(clients.keep_default_session())


def test_the_clients_are_kept_from_one_test_to_the_next_and_still_answer() -> None:
    s3, kms = product.s3(), product.kms("arn:aws:kms:eu-west-1:111111111111:key/k")
    next_test()
    assert product.s3() is s3
    assert product.kms("arn:aws:kms:eu-west-1:111111111111:key/other") is kms
    product.s3().create_bucket(Bucket="kept-client-bucket")
    assert [b["Name"] for b in product.s3().list_buckets()["Buckets"]] == ["kept-client-bucket"]


def test_the_reset_between_two_tests_runs_outside_the_mock_and_still_keeps_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3 = product.s3()
    with monkeypatch.context() as outside:  # outside moto's mock, its fake credentials are gone
        outside.setenv("AWS_ACCESS_KEY_ID", "testing")
        outside.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        state.reset()
    product_clients.made_on(clients.keep_default_session())
    assert product.s3() is s3


def test_settings_are_read_again_even_when_the_clients_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Mapping[str, str]] = []
    monkeypatch.setattr(settings.Settings, "from_environment", staticmethod(lambda environ: reads.append(environ)))
    s3 = product.s3()
    settings.settings()
    next_test()
    settings.settings()
    assert len(reads) == 2
    assert product.s3() is s3


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ("AWS_SECRET_ACCESS_KEY", "rotated"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ],
)
def test_another_aws_environment_gets_new_clients(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    s3 = product.s3()
    monkeypatch.setenv(variable, value)
    next_test()
    assert product.s3() is not s3
    assert clients.is_kept(boto3.DEFAULT_SESSION)


def test_counting_calls_makes_the_clients_anew_on_the_counting_session_and_the_next_test_drops_them() -> None:
    s3 = product.s3()
    calls = AwsCalls().start()
    counted = product.s3()
    assert counted is not s3
    counted.list_buckets()
    assert calls.made == ["s3:ListBuckets"]
    next_test()
    assert product.s3() is not counted
    product.s3().list_buckets()
    assert calls.made == ["s3:ListBuckets"]


def test_a_function_run_on_another_session_gets_clients_of_its_own() -> None:
    s3 = product.s3()
    product_clients.made_on(boto3.Session())
    assert product.s3() is not s3
    product_clients.made_on(None)  # boto3 will make a default session: nothing can be kept for it
    assert product.s3() is not s3
