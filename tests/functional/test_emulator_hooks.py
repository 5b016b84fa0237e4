"""The private hooks the local AWS relies on still exist: an upgrade of moto or crhelper that moves
one fails here, loudly, instead of somewhere deep in the demo."""

from __future__ import annotations

import inspect
import io
import json
import re
import zipfile
from importlib.metadata import version

import crhelper.utils
import pytest
from crhelper import CfnResource
from moto.awslambda.models import LambdaFunction
from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend
from moto.core.authorization import ActionAuthenticatorMixin

from localaws import clients, custom_resources, lambda_runtime

PINNED = {"moto": "5.2.5", "crhelper": "2.0.12"}


def test_the_hooked_packages_are_the_pinned_versions() -> None:
    assert {name: version(name) for name in PINNED} == PINNED


def test_moto_still_runs_lambda_through_invoke_lambda() -> None:
    assert list(inspect.signature(LambdaFunction._invoke_lambda).parameters) == ["self", "event"]


def test_moto_cloudformation_still_resolves_types_and_cleans_json_where_we_patch() -> None:
    assert callable(parsing.resource_class_from_type)
    assert callable(parsing.clean_json)
    assert callable(parsing.ResourceMap.delete)


def test_crhelper_still_sends_through_the_hooks_we_patch() -> None:
    assert "status" in inspect.signature(CfnResource._send).parameters
    assert crhelper.utils.HTTPSConnection is not None
    # It reads only these of ssl (custom_resources.CRHELPER_SSL has them).
    source = inspect.getsource(crhelper.utils)
    assert set(re.findall(r"\bssl\.(\w+)", source)) <= set(vars(custom_resources.CRHELPER_SSL))


def test_a_function_runs_in_process_through_moto_lambda_invoke() -> None:
    code = b"def handler(event, context):\n    return {'echo': event['value'], 'function': context.function_name}\n"
    archive = deployment_zip(code)
    iam = clients.iam()
    role = iam.create_role(RoleName="smoke", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    with lambda_runtime.in_process_lambda():
        clients.lambda_().create_function(
            FunctionName="smoke", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": archive}
        )
        response = clients.lambda_().invoke(FunctionName="smoke", Payload=json.dumps({"value": 42}))
    assert json.loads(response["Payload"].read()) == {"echo": 42, "function": "smoke"}


def deployment_zip(source: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def test_moto_cloudformation_still_creates_and_updates_stacks_where_parameters_are_checked() -> None:
    update = list(inspect.signature(CloudFormationBackend.update_stack).parameters)
    assert update == ["self", "name", "template", "role_arn", "parameters", "tags"]
    assert list(inspect.signature(CloudFormationBackend.create_stack).parameters)[:4] == [
        "self",
        "name",
        "template",
        "parameters",
    ]
    assert callable(CloudFormationBackend._resolve_update_parameters)


def test_moto_still_authorizes_every_query_action_where_scps_and_role_trust_are_evaluated() -> None:
    hook = ActionAuthenticatorMixin._authenticate_and_authorize_action
    assert list(inspect.signature(hook).parameters)[:3] == ["self", "iam_request_cls", "resource"]


def test_the_runtime_keeps_the_products_clients_only_while_the_aws_environment_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each client stays referenced, so a new one cannot reuse a freed one's id.
    code = b"from expel_onboarding import clients\nmade = []\ndef handler(event, context):\n"
    code += b"    made.append(clients.s3())\n    return id(made[-1])\n"
    role = clients.iam().create_role(RoleName="clients", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = clients.lambda_()
    with lambda_runtime.in_process_lambda():
        client.create_function(
            FunctionName="clients",
            Runtime="python3.13",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": deployment_zip(code)},
        )
        first, second = (json.loads(client.invoke(FunctionName="clients")["Payload"].read()) for _ in range(2))
        # Another endpoint (a test's local AWS server after a mocked one): the next function needs new clients.
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        third = json.loads(client.invoke(FunctionName="clients")["Payload"].read())
    assert first == second != third
