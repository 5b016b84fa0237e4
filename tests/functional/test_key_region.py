"""The CloudTrail key is read and written in its own region, whatever the function's region.

A KMS key lives in one region, which its ARN names; a client in another region answers
NotFoundException for it (moto does the same), so these handlers would report the key missing if
they used the stack's region."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from expel_onboarding import caches, settings
from localaws import lambda_runtime, landing_zone, stack_resources
from localaws.lambda_context import FakeContext

KEY_REGION = "eu-west-1"
ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:root"}}


@pytest.fixture
def key_elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The stack's functions in us-east-1, and a CloudTrail key of this (Log Archive) account in eu-west-1."""
    with lambda_runtime.in_process_lambda():
        zone = landing_zone.seed()
        for name, value in stack_resources.deploy_stack_resources(zone).items():
            monkeypatch.setenv(name, value)
        caches.reset()
        kms = boto3.client("kms", region_name=KEY_REGION)
        arn: str = kms.create_key()["KeyMetadata"]["Arn"]
        policy = {"Version": "2012-10-17", "Statement": [{**ADMIN, "Action": "kms:*", "Resource": "*"}]}
        kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
        yield arn
        caches.reset()


def run(step: str, mode: str, key_arn: str) -> dict[str, Any]:
    handler = importlib.import_module(f"functions.{step}.app").lambda_handler
    event = {"Mode": mode, "Discover": {"Status": "OK", "Data": {"CloudTrailKeyArn": key_arn}}}
    result: dict[str, Any] = handler(event, FakeContext())
    return result


def test_the_key_policy_step_edits_a_key_in_another_region_than_its_own(key_elsewhere: str) -> None:
    assert settings.settings().region == "us-east-1"
    report = run("key_policy", "apply", key_elsewhere)
    assert report["Status"] == "CHANGED", report["Detail"]
    text = boto3.client("kms", region_name=KEY_REGION).get_key_policy(KeyId=key_elsewhere, PolicyName="default")
    target = settings.settings().key_target(key_elsewhere)
    assert target is not None
    assert target.sid in text["Policy"]
    assert run("key_policy", "check", key_elsewhere)["Status"] == "OK"
