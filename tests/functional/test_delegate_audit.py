"""Every call of the key-policy delegate leaves an audit record: which stack asked, what, on which key and
Sid, and the key policy's SHA-256 before and after; a refused call too."""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from expel_onboarding import caches, delegate
from expel_onboarding.naming import key_statement_sid
from localaws import clients
from localaws.lambda_context import FakeContext
from tests.support.cfn_template import ROOT

ROLE_ARN = "arn:aws:iam::123456789012:role/ExpelTrailAssumeRole"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/expel-onboarding/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, str]]:
    key_arn = clients.kms().create_key()["KeyMetadata"]["Arn"]
    environment = json.loads((ROOT / "events" / "env.json").read_text(encoding="utf-8"))["KeyPolicyDelegate"]
    for name, value in {**environment, "CLOUDTRAIL_KEY_ARN": key_arn, "POWERTOOLS_SERVICE_NAME": "audit"}.items():
        monkeypatch.setenv(name, value)
    delegate.config.cache_clear()
    caches.reset()
    sys.modules.pop("functions.key_policy_delegate.app", None)
    yield importlib.import_module("functions.key_policy_delegate.app"), key_arn
    delegate.config.cache_clear()
    sys.modules.pop("functions.key_policy_delegate.app", None)


def request(key_arn: str, **changes: Any) -> dict[str, Any]:
    return {
        "Operation": "apply",
        "KeyArn": key_arn,
        "Sid": key_statement_sid(ROLE_ARN, key_arn),
        "ExpelRoleArn": ROLE_ARN,
        "Region": "us-east-1",
        "StackId": STACK_ID,
        **changes,
    }


def records(caught: pytest.LogCaptureFixture, message: str) -> list[dict[str, Any]]:
    # The fields the handler's logger adds ride on the log record as attributes.
    return [vars(record) for record in caught.records if record.getMessage() == message]


def test_an_applied_statement_is_recorded_with_the_policy_before_and_after(
    handler: tuple[ModuleType, str], caplog: pytest.LogCaptureFixture
) -> None:
    module, key_arn = handler
    module.lambda_handler(request(key_arn), FakeContext())
    (record,) = records(caplog, "delegate answered")
    assert (record["stack"], record["operation"], record["key"]) == (STACK_ID, "apply", key_arn)
    assert record["sid"].startswith("ExpelOnboarding")
    assert len(record["policy_sha256_before"]) == 64
    written = clients.kms().get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    assert record["policy_sha256_after"] == hashlib.sha256(written.encode("utf-8")).hexdigest()
    assert record["policy_sha256_before"] != record["policy_sha256_after"]
    assert record["status"] == "CHANGED"
    # Who called: Lambda does not say, but the door does. The function's own ARN admits the KeyPolicy role only.
    assert record["invoked_as"] == FakeContext().invoked_function_arn
    assert record["caller"] == "arn:aws:iam::123456789012:role/expel-onboarding/key-policy/*"


def test_a_read_through_the_read_only_alias_is_recorded_as_verifys(
    handler: tuple[ModuleType, str], caplog: pytest.LogCaptureFixture
) -> None:
    module, key_arn = handler
    through_reader = FakeContext(invoked_function_arn=f"{FakeContext().invoked_function_arn}:reader")
    module.lambda_handler(request(key_arn, Operation="read"), through_reader)
    (record,) = records(caplog, "delegate answered")
    assert record["caller"] == "arn:aws:iam::123456789012:role/expel-onboarding/verify/*"
    with pytest.raises(Exception, match="may only read"):
        module.lambda_handler(request(key_arn), through_reader)
    (refused,) = records(caplog, "delegate refused")
    assert (refused["caller"], refused["operation"]) == (record["caller"], "apply")
    assert refused["policy_sha256_before"] == ""


def test_a_call_that_changes_nothing_records_the_same_digest_twice(
    handler: tuple[ModuleType, str], caplog: pytest.LogCaptureFixture
) -> None:
    module, key_arn = handler
    module.lambda_handler(request(key_arn), FakeContext())
    caplog.clear()
    module.lambda_handler(request(key_arn, Operation="read"), FakeContext())
    (record,) = records(caplog, "delegate answered")
    assert record["policy_sha256_before"] == record["policy_sha256_after"] != ""


def test_a_refused_call_is_recorded_too_and_changes_nothing(
    handler: tuple[ModuleType, str], caplog: pytest.LogCaptureFixture
) -> None:
    module, key_arn = handler
    policy = clients.kms().get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    with pytest.raises(Exception, match="is not ours"):
        module.lambda_handler(request(key_arn, Sid="SomebodyElse"), FakeContext())
    (record,) = records(caplog, "delegate refused")
    assert (record["error"], record["sid"]) == ("DelegateRefused", "SomebodyElse")
    # Refused before the key is touched: nothing read, nothing written, and the policy is as it was.
    assert (record["policy_sha256_before"], record["policy_sha256_after"]) == ("", "")
    assert clients.kms().get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"] == policy
