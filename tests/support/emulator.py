"""Every workaround for a gap in moto that the tests need, each naming the gap it covers."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from moto.awslambda.models import LambdaFunction
from moto.organizations import utils as organizations_utils

from expel_onboarding import clients, custom_resource, settings


def create_member_account(organizations: Any, account_id: str, name: str) -> None:
    """Gap: moto gives new member accounts random ids, and acting as one through MOTO_ACCOUNT_ID
    disables the access-key account switching that cross-account AssumeRole relies on. So the
    member gets the id we choose (moto's default account), and no MOTO_ACCOUNT_ID is needed."""
    with mock.patch.object(organizations_utils, "make_random_account_id", return_value=account_id):
        organizations.create_account(Email=f"{name.lower().replace(' ', '-')}@example.com", AccountName=name)


def create_organization_trail(bucket: str, key_arn: str) -> str:
    """Gap: moto keeps a trail in the account that created it, while AWS shows the management
    account's organization trail to every member. So the trail is created where the Log Archive
    account (the caller) can describe it, with the management account's key."""
    trail = boto3.client("cloudtrail").create_trail(
        Name="aws-controltower-BaselineCloudTrail",
        S3BucketName=bucket,
        IsMultiRegionTrail=True,
        KmsKeyId=key_arn,
    )
    return str(trail["TrailARN"])


class _Context:
    """The part of the Lambda context the handlers and Powertools read."""

    def __init__(self, function: Any) -> None:
        self.function_name = function.function_name
        self.memory_limit_in_mb = int(function.memory_size)
        self.invoked_function_arn = function.function_arn
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + int(function.timeout)

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


_HANDLERS: dict[str, Callable[[Any, Any], Any]] = {}


def _handler_of(function: Any) -> Callable[[Any, Any], Any]:
    """Import the handler from the function's own code zip, once per code version."""
    sha = hashlib.sha256(function.code_bytes).hexdigest()
    key = f"{sha}:{function.handler}"
    if key not in _HANDLERS:
        folder = Path(tempfile.mkdtemp(prefix="lambda-code-"))
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            archive.extractall(folder)
        module_name, attribute = function.handler.rsplit(".", 1)
        spec = importlib.util.spec_from_file_location(
            f"lambda_{sha[:12]}_{module_name}", folder / f"{module_name.replace('.', '/')}.py"
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"no {module_name}.py in the code of {function.function_name}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _HANDLERS[key] = getattr(module, attribute)
    return _HANDLERS[key]


def _fresh_container() -> None:
    """Each invocation sees its own function's environment, as a separate Lambda container would."""
    clients.reset()
    settings.settings.cache_clear()
    custom_resource.bridge_settings.cache_clear()


class _ThreadEnviron(MutableMapping[str, str]):
    """os.environ with a per-thread overlay, so concurrent in-process functions (the bridge waiting
    on a run while Step Functions invokes the steps) each see only their own environment."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self._local = threading.local()

    @property
    def overlay(self) -> dict[str, str] | None:
        overlay: dict[str, str] | None = getattr(self._local, "overlay", None)
        return overlay

    @overlay.setter
    def overlay(self, value: dict[str, str] | None) -> None:
        self._local.overlay = value

    def _view(self) -> MutableMapping[str, str]:
        return self.overlay if self.overlay is not None else self.base

    def __getitem__(self, key: str) -> str:
        return self._view()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._view()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._view()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._view()))

    def __len__(self) -> int:
        return len(self._view())

    def copy(self) -> dict[str, str]:
        return dict(self._view())


def _invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    if isinstance(event, str):
        event = json.loads(event or "{}")
    environ = os.environ
    assert isinstance(environ, _ThreadEnviron), "in_process_lambda() is not active"
    previous = environ.overlay
    environ.overlay = {
        **environ.base,
        **{k: str(v) for k, v in self.environment_vars.items()},
        "AWS_REGION": self.region,
        "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
    }
    _fresh_container()
    try:
        result = _handler_of(self)(event if event is not None else {}, _Context(self))
        return json.dumps(result), False, ""
    except Exception as exc:  # noqa: BLE001 - reported the way Lambda reports an unhandled error
        error = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        return json.dumps(error), True, ""
    finally:
        environ.overlay = previous


@contextmanager
def in_process_lambda() -> Iterator[None]:
    """Gap: moto runs Lambda code only in Docker, and there is no Docker here. This runs the
    function's own zipped code in this process, with the function's environment. The one hook
    serves Invoke, Step Functions tasks and CloudFormation custom resources alike."""
    original = os.environ
    os.environ = _ThreadEnviron(original)  # type: ignore[assignment]  # noqa: B003 - a view over the same environment
    try:
        with mock.patch.object(LambdaFunction, "_invoke_lambda", _invoke_in_process):
            yield
    finally:
        os.environ = original  # noqa: B003 - the real environment back
