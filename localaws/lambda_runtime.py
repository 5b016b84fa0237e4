"""Gap: moto runs Lambda code only in Docker, and there is no Docker here.

in_process_lambda() runs the function's own zipped code in this process instead, with the function's
environment, as a container of its own would. The one hook (moto's LambdaFunction._invoke_lambda, a
private method: localaws.replacements fails loudly, naming the gap, if it moves) serves Invoke, Step
Functions tasks and CloudFormation custom resources alike.

Gap: moto looks an invoked function up in the caller's own account, even when the caller names
another account's function by ARN, and never reads the function's resource-based policy. Here a
cross-account ARN reaches its own account's function, if that policy lets the caller's account invoke
it; otherwise the caller gets Lambda's AccessDeniedException.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import traceback
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, lambda_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from localaws import function_policies, product_clients, replacements, request_headers, service_metrics
from localaws.accounts import as_account
from localaws.lambda_context import FakeContext
from localaws.per_thread import ThreadEnviron, thread_stdout

_HANDLERS: dict[str, Callable[[Any, Any], Any]] = {}
# AWS runs the state machine in seconds, and the bridge polls for its run from 0.25 s, slowing to every
# 2 s (expel_onboarding.workflow.wait). The local AWS runs it in tenths of a second: polled every 2 s, the
# machine would sit idle for most of each wait. Here the polls slow to every 50 ms; each sees what it
# would have seen, only sooner.
LOCAL_MAX_POLL_SECONDS = 0.05
_ORIGINAL_INVOKE = LambdaBackend.invoke
# The ARN the current thread's Invoke named (_invoked_as), for the invoked function's context.
_INVOKED = threading.local()


@contextmanager
def in_process_lambda() -> Iterator[None]:
    """Lambda functions run in this process, for as long as the context lasts."""
    with replacements.applied(
        "lambda-environment-per-thread",
        "lambda-in-process",
        "lambda-invoke-across-accounts",
        "lambda-stdout-per-thread",
        "workflow-fast-polls",
    ):
        yield


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


def _invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """moto's LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs), in this process."""
    if isinstance(event, str):
        event = json.loads(event or "{}")
    environ = os.environ
    if not isinstance(environ, ThreadEnviron):
        raise RuntimeError("in_process_lambda() is not active")
    previous = environ.overlay
    environ.overlay = {
        **environ.base,
        **{k: str(v) for k, v in self.environment_vars.items()},
        "AWS_REGION": self.region,
        "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
    }
    # Each invocation sees its own function's environment, as a separate Lambda container would. The
    # clients depend only on the session and the AWS environment (the account is a per-request header:
    # localaws.request_headers), so they are kept while those stay the same (localaws.product_clients).
    product_clients.made_on(boto3.DEFAULT_SESSION)
    # Captured whatever sys.stdout is now: pytest swaps in its own stream at each test phase, and a function's
    # print() (Powertools' embedded metrics) goes to sys.stdout as it is when it prints.
    stdout = thread_stdout()
    outside = sys.stdout
    sys.stdout = stdout
    log = io.StringIO()
    stdout.capture = log
    # A function in another account than moto's default (the management account's key-policy
    # delegate) makes its calls as its own account, as its execution role would.
    acting = ExitStack()
    if self.account_id != DEFAULT_ACCOUNT_ID:
        acting.enter_context(as_account(self.account_id))
    # Its calls are its execution role's, as Lambda makes them.
    acting.enter_context(request_headers.as_principal(str(self.role)))
    try:
        result = _handler_of(self)(event if event is not None else {}, _context_of(self))
        service_metrics.record_embedded(self.account_id, self.region, log.getvalue())
        return json.dumps(result), False, log.getvalue()
    except Exception as exc:  # noqa: BLE001 - reported the way Lambda reports an unhandled error
        # Lambda counts it in AWS/Lambda Errors, per function (Lambda developer guide, "Types of metrics").
        service_metrics.record(
            self.account_id, self.region, "AWS/Lambda", "Errors", ("FunctionName", self.function_name), 1
        )
        service_metrics.record_embedded(self.account_id, self.region, log.getvalue())
        error = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        return json.dumps(error), True, log.getvalue()
    finally:
        acting.close()
        environ.overlay = previous
        stdout.capture = None
        if sys.stdout is stdout:
            sys.stdout = outside


def _invoked_arn(function: Any, function_name: str, qualifier: str | None) -> str:
    """The ARN a call invoked, as Lambda gives it to the function (the context's invoked_function_arn): the
    function's own ARN, with the version or alias the caller named, if any."""
    named = function_name.split(":")
    asked = qualifier or (named[7] if function_name.startswith("arn:") and len(named) > 7 else "")
    if not function_name.startswith("arn:") and len(named) == 2:
        asked = asked or named[1]
    unqualified = ":".join(str(function.function_arn).split(":")[:7])
    return f"{unqualified}:{asked}" if asked else unqualified


@contextmanager
def _invoked_as(arn: str) -> Iterator[None]:
    previous = getattr(_INVOKED, "arn", "")
    _INVOKED.arn = arn
    try:
        yield
    finally:
        _INVOKED.arn = previous


def _context_of(function: Any) -> FakeContext:
    """The function's context, with the ARN this thread's Invoke named when it is this function's."""
    context = FakeContext.of(function)
    invoked = str(getattr(_INVOKED, "arn", ""))
    if invoked.startswith(f"{context.invoked_function_arn}:"):
        context.invoked_function_arn = invoked
    return context


def _invoke_across_accounts(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> Any:
    parts = function_name.split(":")
    if not function_name.startswith("arn:") or len(parts) < 7 or parts[4] == self.account_id:
        function = self.get_function(function_name, qualifier)
        with _invoked_as(_invoked_arn(function, function_name, qualifier)):
            return _ORIGINAL_INVOKE(self, function_name, qualifier, body, headers, response_headers)
    owner = lambda_backends[parts[4]][parts[3]]
    function = owner.get_function(function_name, qualifier)
    invoked = _invoked_arn(function, function_name, qualifier)
    caller = function_policies.caller_principal(self.account_id, headers)
    if not function_policies.allows(function, invoked, caller, self.account_id):
        raise LambdaClientError(
            "AccessDeniedException",
            f"User: {caller} is not authorized to perform: lambda:InvokeFunction on resource: {invoked} "
            "because no resource-based policy allows the lambda:InvokeFunction action",
        )
    with _invoked_as(invoked):
        return _ORIGINAL_INVOKE(owner, function_name, qualifier, body, headers, response_headers)
