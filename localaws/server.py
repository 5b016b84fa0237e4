"""moto's server on 127.0.0.1, in this process, with every gap filled: Lambda in this process
(localaws.lambda_runtime), CloudFormation's (localaws.cloudformation), the services' rules
(localaws.service_gaps) and the server's own."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from xml.sax.saxutils import escape

from moto.core.config import default_user_config
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from localaws import cloudformation, lambda_runtime, service_gaps, state
from localaws.accounts import MEMBERS

REGION = "us-east-1"
LOG = logging.getLogger("localaws")
# AWS's error document for the query (XML) protocols; botocore's JSON parsers read its message too.
INTERNAL_FAILURE = (
    "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>{}</Message></Error>"
    "</ErrorResponse>"
)


def answering_errors(app: Callable[..., Any]) -> Callable[..., Any]:
    """A request moto fails on (an action or a region it lacks) gets AWS's InternalFailure answer, and one
    line in the log saying what failed; no traceback reaches the person watching `start`."""

    def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return app(environ, start_response)
        except Exception as exc:  # noqa: BLE001 - any failure of the emulator is an answer, not a crash
            what = f"{environ.get('REQUEST_METHOD')} {environ.get('HTTP_HOST', '')}{environ.get('PATH_INFO', '')}"
            LOG.error("local AWS: %s failed: %s: %s", what, type(exc).__name__, exc)
            start_response("500 Internal Server Error", [("Content-Type", "text/xml")])
            message = escape(f"the local AWS could not answer this request: {type(exc).__name__}: {exc}")
            return [INTERNAL_FAILURE.format(message).encode("utf-8")]

    return answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running() -> Iterator[str]:
    """A local AWS for as long as the context lasts; yields its endpoint URL.

    Every boto3 client in this process is pointed at it (AWS_ENDPOINT_URL), with fake credentials,
    so nothing here can reach a real account."""
    # moto's backends live in this process: a second local AWS here starts empty, as a new one would,
    # and the product's cached clients are made anew for its endpoint.
    moto_api_backend.reset()
    state.reset()
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "localaws",
            "AWS_SECRET_ACCESS_KEY": "localaws",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            # moto's own clients (Step Functions tasks, custom-resource replies) find the server by this.
            "MOTO_PORT": str(port),
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    executing = default_user_config["stepfunctions"]["execute_state_machine"]
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = answering_errors(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    with ExitStack() as stack:
        stack.enter_context(lambda_runtime.in_process_lambda())
        stack.enter_context(cloudformation.cloudformation_gaps())
        stack.enter_context(service_gaps.server_gaps(member_ids=tuple(MEMBERS)))
        stack.enter_context(service_gaps.filled())
        serving = threading.Thread(target=server.serve_forever, name="localaws-server", daemon=True)
        serving.start()
        stack.callback(serving.join)
        stack.callback(server.shutdown)
        try:
            yield endpoint
        finally:
            state.reset()
            default_user_config["stepfunctions"]["execute_state_machine"] = executing
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


ENVIRONMENT = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "MOTO_PORT",
)
