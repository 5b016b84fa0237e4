"""events/: a sample event for every function, and the env file sam local invoke needs beside them.

sam local invoke cannot resolve the template's !GetAtt and !Ref environment values, so every function
needs its variables from --env-vars events/env.json. These tests keep that file naming exactly the
variables the code reads, and every sample loading and answering as the README says.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from moto import mock_aws

from expel_onboarding import caches, clients, custom_resource, delegate
from expel_onboarding.naming import key_statement_sid
from expel_onboarding.settings import Settings
from localaws import clients as local_clients
from localaws import templates
from localaws.lambda_context import FakeContext
from tests.support.cfn_template import ROOT
from tests.support.fake_aws import use_fake_credentials

EVENTS = ROOT / "events"
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").exists())
# Lambda sets these itself, in the cloud and under sam local invoke alike.
SET_BY_LAMBDA = {"AWS_REGION"}


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def env_file() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads((EVENTS / "env.json").read_text(encoding="utf-8"))
    return loaded


class Recording(dict[str, str]):
    """An environment that remembers every name the code asks it for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def __contains__(self, name: object) -> bool:
        self.asked.add(str(name))
        return super().__contains__(name)

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(name)
        return super().get(name, default)


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The process environment sam local invoke would give a step function with events/env.json."""
    values = {**env_file()["Parameters"], "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ExpelCloudTrailOnboarding")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "expel-cloudtrail-onboarding")
    caches.reset()
    yield values
    caches.reset()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_a_sample_event(function: str) -> None:
    samples = sorted(path.name for path in EVENTS.glob(f"{function}-*.json"))
    assert samples, f"events/ has no {function}-<case>.json for functions/{function}"


def test_every_sample_is_a_json_object_named_for_its_function() -> None:
    for path in EVENTS.glob("*.json"):
        if path.name == "env.json":
            continue
        function = next((name for name in FUNCTIONS if path.stem.startswith(f"{name}-")), None)
        assert function, f"{path.name} names no function of functions/"
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path.name


def test_the_env_file_names_exactly_what_the_step_functions_read() -> None:
    environment = Recording({**env_file()["Parameters"], "AWS_REGION": "us-east-1"})
    Settings.from_environment(environment)
    assert set(env_file()["Parameters"]) == environment.asked - SET_BY_LAMBDA


def test_the_env_file_gives_the_bridge_its_state_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    bridge = env_file()["BridgeFunction"]
    caches.reset()
    monkeypatch.delenv("STATE_MACHINE_ARN", raising=False)
    with pytest.raises(Exception, match="STATE_MACHINE_ARN"):
        custom_resource.bridge_settings()
    for name, value in bridge.items():
        monkeypatch.setenv(name, value)
    assert custom_resource.bridge_settings().state_machine_arn == bridge["STATE_MACHINE_ARN"]
    caches.reset()
    assert set(bridge) == {"STATE_MACHINE_ARN"}


def test_the_env_file_names_exactly_what_the_key_policy_delegate_reads() -> None:
    environment = Recording(env_file()["KeyPolicyDelegate"])
    delegate.Config.from_environment(environment)
    assert set(env_file()["KeyPolicyDelegate"]) == environment.asked


def test_the_env_file_names_only_functions_of_the_templates() -> None:
    functions = {
        name
        for template in ("template.yaml", "org/management.yaml")
        for name, resource in templates.read(ROOT / template)["Resources"].items()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }
    assert set(env_file()) - {"Parameters"} <= functions


def test_the_delegate_accepts_its_sample_request() -> None:
    config = delegate.Config.from_environment(env_file()["KeyPolicyDelegate"])
    request = delegate.parse(sample("key_policy_delegate-input"), config)
    assert request.operation == "read"


@pytest.mark.usefixtures("lambda_environment")
def test_the_outputs_function_answers_its_sample_with_its_sample_output() -> None:
    handler = importlib.import_module("functions.outputs.app").lambda_handler
    assert handler(sample("outputs-input"), FakeContext()) == sample("outputs-output")


@pytest.mark.usefixtures("lambda_environment")
def test_the_outputs_function_names_the_failed_step_and_its_fix() -> None:
    handler = importlib.import_module("functions.outputs.app").lambda_handler
    summary = handler(sample("outputs-failed-input"), FakeContext())
    assert summary["Failed"] is True
    assert summary["Steps"][-1]["Name"] == "Notification"
    assert summary["Steps"][-1]["Status"] == "FAILED"
    assert "set the NotificationPrefix parameter" in summary["FailureCause"]


def test_the_delegate_answers_its_sample_read_in_the_shape_of_its_sample_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_fake_credentials(monkeypatch)
    clients.reset()
    with mock_aws():
        kms = local_clients.kms()
        key_arn = kms.create_key()["KeyMetadata"]["Arn"]
        config = replace(delegate.Config.from_environment(env_file()["KeyPolicyDelegate"]), key_arn=key_arn)
        # The sample's key ARN is an example; the request names the key this delegate is configured for.
        sid = key_statement_sid(config.expel_role_arn, key_arn)
        request = {**sample("key_policy_delegate-input"), "KeyArn": key_arn, "Sid": sid}
        door = delegate.door_of("arn:aws:lambda:us-east-1:111111111111:function:expel-org-KeyPolicyDelegate", config)
        delegate.handle({**request, "Operation": "apply"}, config, kms, door)
        answer = delegate.handle(request, config, kms, door)
    clients.reset()
    expected = sample("key_policy_delegate-output")
    assert set(answer) == set(expected)
    assert {key: answer["Report"][key] for key in ("Name", "Status")} == {
        key: expected["Report"][key] for key in ("Name", "Status")
    }
    # The sample's key is the management account's; this one is moto's: the trail account in the
    # encryption-context condition follows the key's account, and everything else is the sample's.
    found, shown = answer["Statement"], {**expected["Statement"], "Sid": sid}
    assert {k: v for k, v in found.items() if k != "Condition"} == {k: v for k, v in shown.items() if k != "Condition"}
    assert {k: v for k, v in found["Condition"].items() if k != "StringLike"} == {
        k: v for k, v in shown["Condition"].items() if k != "StringLike"
    }
    assert set(found["Condition"]["StringLike"]) == set(shown["Condition"]["StringLike"])
