"""localaws.speedups changes what the emulator spends, never what it answers."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any
from unittest import mock

import pytest

from localaws import replacements
from tests.support.speedup_targets import skip_unless_fitting

skip_unless_fitting(*(name for name in replacements.SPEEDUPS if not name.startswith("step-functions")))

from botocore import hooks  # noqa: E402 - after the fit check
from moto import backend_index, backends  # noqa: E402
from moto.cloudformation.models import Stack  # noqa: E402
from moto.core import models as core_models  # noqa: E402
from moto.core import responses as core_responses  # noqa: E402
from moto.core.models import DEFAULT_ACCOUNT_ID, botocore_stubber, responses_mock  # noqa: E402
from moto.core.utils import method_names_from_class  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402
from moto.moto_server.threaded_moto_server import ThreadedMotoServer  # noqa: E402
from moto.s3.responses import S3Response  # noqa: E402
from moto.stepfunctions.responses import StepFunctionResponse  # noqa: E402

from localaws import clients, server, speedups  # noqa: E402

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


# These tests show a speedup in place; with LOCALAWS_SPEEDUPS=off (make test-no-speedups) none is.
applied_only = pytest.mark.skipif(not replacements.speedups_on(), reason="LOCALAWS_SPEEDUPS=off: no speedup is applied")


def test_template_bodies_read_the_same_as_json_and_as_yaml() -> None:
    as_json = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}})
    as_yaml = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: t\n"
    assert Stack.parse_template(as_json) == Stack.parse_template(as_yaml) == json.loads(as_json)
    assert Stack.parse_template("Value: !Ref Topic") == {"Value": {"Ref": "Topic"}}


def test_symmetric_keys_encrypt_and_asymmetric_keys_still_sign_with_their_own_key() -> None:
    kms = clients.kms()
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=symmetric, Plaintext=b"log")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"log"
    signing = [kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"] for _ in range(2)]
    public_keys = {kms.get_public_key(KeyId=key)["PublicKey"] for key in signing}
    assert len(public_keys) == 2
    signature = kms.sign(KeyId=signing[0], Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    verified = kms.verify(KeyId=signing[0], Message=b"m", Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert verified["SignatureValid"]


def test_event_names_alias_as_botocore_would_and_another_table_is_asked_itself() -> None:
    names = ["before-call.apigateway.GetRestApis", "before-call.s3.PutObject", "needs-retry.api.mediatailor.List"]
    for name in names:
        fresh = hooks.EventAliaser(hooks.HierarchicalEmitter())
        assert fresh._alias_event_name(name) == speedups._ALIAS_EVENT_NAME(fresh, name)
    assert (
        hooks.EventAliaser(hooks.HierarchicalEmitter())._alias_event_name(names[0])
        == "before-call.api-gateway.GetRestApis"
    )
    own = hooks.EventAliaser(hooks.HierarchicalEmitter(), {"s3": "storage"})
    assert own._alias_event_name("before-call.s3.PutObject") == "before-call.storage.PutObject"


@applied_only
def test_each_start_of_the_mock_registers_the_requests_mocks_made_once() -> None:
    pattern = backend_index.backend_url_patterns[0][1]
    callback = botocore_stubber.process_prepared_request
    made = core_models.CallbackResponse(method="GET", url=pattern, callback=callback)
    assert made is core_models.CallbackResponse(method="GET", url=pattern, callback=callback)
    # This test's mock started inside service_gaps.filled(): it registered the kept ones.
    assert any(response is made for response in responses_mock.registered())


@pytest.mark.parametrize("response", [IamResponse, S3Response, StepFunctionResponse])
def test_an_action_is_a_method_of_the_response_class_exactly_when_moto_would_list_it(response: type) -> None:
    functions = core_responses.method_names_from_class(response)
    names = [*dir(response), "no_such_action", "", "__class__", "dispatch"]
    assert [name for name in names if name in functions] == [
        name for name in names if name in method_names_from_class(response)
    ]


def rotate_everything(self: IamResponse) -> str:
    return ""


@applied_only
def test_a_method_added_or_removed_while_the_emulator_runs_is_seen_at_once() -> None:
    functions = core_responses.method_names_from_class(IamResponse)
    assert "rotate_everything" not in functions
    with mock.patch.object(IamResponse, "rotate_everything", rotate_everything, create=True):
        assert "rotate_everything" in functions
    assert "rotate_everything" not in functions


def test_the_server_knows_the_same_services_by_name() -> None:
    assert list(backends.list_of_moto_modules()) == list(speedups._LIST_OF_MOTO_MODULES())


@applied_only
def test_a_local_server_answers_and_stops_within_a_tenth_of_a_second() -> None:
    port = server.free_port()
    threaded = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    threaded.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=10) as answer:
            assert answer.status == 200
    finally:
        started = time.monotonic()
        threaded.stop()
    assert time.monotonic() - started < 0.1 < speedups._SERVE_FOREVER.__defaults__[0]


def backend_of(service: str) -> Any:
    """The backend moto's mock routes a request of this service to (S3's is global)."""
    of_account = backends.get_backend(service)[DEFAULT_ACCOUNT_ID]  # type: ignore[call-overload]
    return of_account["us-east-1"] if "us-east-1" in of_account else of_account["aws"]


@applied_only
@pytest.mark.parametrize("service", ["s3", "sqs", "stepfunctions", "kms"])
def test_a_backends_url_table_is_kept_and_is_the_one_moto_builds(service: str) -> None:
    backend = backend_of(service)
    assert backend.urls is backend.urls
    assert backend.urls == speedups._URLS.fget(backend)


@applied_only
def test_an_s3_custom_endpoint_gets_a_url_table_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = backend_of("s3")
    plain = backend.urls
    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", "https://s3.example.test")
    custom = backend.urls
    assert custom is not plain
    assert any(url.startswith("https://s3.example.test") for url in custom)
    monkeypatch.delenv("MOTO_S3_CUSTOM_ENDPOINTS")
    assert backend.urls is plain
    speedups._URLS.fget(backend)  # moto reloads moto.s3.urls as it builds the table: back to the plain one
