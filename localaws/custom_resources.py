"""Gap: moto's custom resources. moto sends a custom resource only Create, to a ResponseURL without a
scheme; it ignores the PhysicalResourceId and a FAILED status in the response, never sends Update or
Delete, and does not roll a failed create back. CloudFormation does all of that, and the bridge relies
on it (AWS CloudFormation User Guide, "Custom resources":
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources.html).

cloudformation_gaps() (localaws.cloudformation) installs them; localaws.stack_updates sends Update.
"""

from __future__ import annotations

import json
import ssl
import threading
import types
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import quote

from moto.awslambda.models import lambda_backends
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.models import CloudFormationBackend, Event, cloudformation_backends

from localaws.cloudformation_models import clean_json

_ORIGINAL_CREATE_STACK = CloudFormationBackend.create_stack


class CustomResourceFailed(Exception):
    """A custom resource answered FAILED (or not at all): CloudFormation stops the stack operation."""


class CustomResources:
    """Sends a custom resource's function its requests, with the physical id the function answered
    last, and waits for its answer as CloudFormation does."""

    answers: ClassVar[dict[str, dict[str, Any]]] = {}  # by RequestId: what the function PUT to the ResponseURL
    stacks: ClassVar[dict[str, Any]] = {}  # by StackId: the stacks whose custom resources were created here

    endpoint: ClassVar[str] = ""  # where functions PUT their answers (response_endpoint)

    @classmethod
    def response_url(cls, region_name: str, stack_id: str) -> str:
        return f"{cls.endpoint}/cloudformation_{region_name}/cfnresponse?stack={quote(stack_id)}"

    @classmethod
    def send(cls, request: str, resource_map: Any, logical_id: str, properties: Any, **fields: Any) -> dict[str, Any]:
        """One request to the custom resource's function; its answer (FAILED with a reason when it
        gave none before the resource's ServiceTimeout)."""
        stack_id = resource_map.stack_id
        event = {
            "RequestType": request,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": cls.response_url(stack_id.split(":")[3], stack_id),
            "StackId": stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": resource_map._resource_json_map[logical_id]["Type"],
            "ResourceProperties": properties,
            **fields,
        }
        function = lambda_backends[resource_map._account_id][resource_map._region_name].get_function(
            properties["ServiceToken"]
        )
        # The in-process runtime answers on this thread's call; the join is the resource's ServiceTimeout.
        invocation = threading.Thread(target=function.invoke, args=(json.dumps(event), {}, {}), daemon=True)
        invocation.start()
        invocation.join(timeout=float(properties.get("ServiceTimeout", 3600)))
        return cls.answers.pop(event["RequestId"], {"Status": "FAILED", "Reason": "no response"})

    @classmethod
    def create(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> CustomModel:
        logical_id = kwargs["LogicalId"]
        # moto's own create_from_cloudformation_json instantiates CustomModel the same way.
        resource = CustomModel(region_name, str(uuid.uuid4()), logical_id, resource_name)  # type: ignore[abstract]
        stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
        cls.stacks[stack.stack_id] = stack
        stack.add_custom_resource(resource)
        # Gap: moto goes on creating the resources that read this one's attributes (Fn::GetAtt) before
        # the function answers, so they get None. CloudFormation waits for the answer: so do we.
        answer = cls.send("Create", stack.resource_map, logical_id, cloudformation_json["Properties"])
        resource.resource_name = answer.get("PhysicalResourceId") or resource_name
        if answer["Status"] != "SUCCESS":
            # Parsed, so the rollback sends it a Delete: a failed create may have written before failing.
            stack.resource_map._parsed_resources[logical_id] = resource
            stack.status = "CREATE_FAILED"
            stack._add_stack_event("CREATE_FAILED", resource_status_reason=answer.get("Reason", ""))
            raise CustomResourceFailed(f"{logical_id}: {answer.get('Reason', '')}")
        resource.set_data(answer.get("Data") or {})
        return resource

    @classmethod
    def update(cls, resource_map: Any, logical_id: str, old_properties: Any, properties: Any) -> str:
        """Update with both property sets, as CloudFormation sends it; the physical id the function
        answered (a different one makes the update a replacement). Raises CustomResourceFailed."""
        resource = resource_map._parsed_resources[logical_id]
        answer = cls.send(
            "Update",
            resource_map,
            logical_id,
            properties,
            PhysicalResourceId=resource.physical_resource_id,
            OldResourceProperties=old_properties,
        )
        if answer["Status"] != "SUCCESS":
            raise CustomResourceFailed(f"{logical_id}: {answer.get('Reason', '')}")
        resource.set_data(answer.get("Data") or {})
        resource.resource_name = answer.get("PhysicalResourceId") or resource.resource_name
        return str(resource.resource_name)

    @classmethod
    def delete(cls, resource_map: Any, logical_id: str, physical_id: str, properties: Any) -> None:
        """Delete of one physical id, with the properties it was made with. Gap: moto records no event for a
        custom resource; CloudFormation records each, with the Reason a SUCCESS response gave."""
        answer = cls.send("Delete", resource_map, logical_id, properties, PhysicalResourceId=physical_id)
        if answer.get("Status") == "SUCCESS" and answer.get("Reason"):
            # moto takes the stack out of its backend while it deletes the resources: it was kept at create.
            stack = cls.stacks[resource_map.stack_id]
            stack.events.append(
                Event(
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_resource_id=logical_id,
                    physical_resource_id=physical_id,
                    resource_type=resource_map._resource_json_map[logical_id]["Type"],
                    resource_status="DELETE_COMPLETE",
                    resource_status_reason=str(answer["Reason"]),
                    resource_properties=None,
                )
            )

    @classmethod
    def delete_first(cls, resource_map: Any) -> None:
        """Delete in reverse creation order, so a custom resource that reads another's attributes goes
        first. Each stays parsed (other resources' Fn::GetAtt still resolve while moto deletes them)
        but leaves the template map, so moto does not delete it again."""
        custom = [
            (i, p)
            for i, p in resource_map._parsed_resources.items()
            if isinstance(p, CustomModel) and i in resource_map._resource_json_map
        ]
        for logical_id, parsed in reversed(custom):
            properties = clean_json(resource_map._resource_json_map[logical_id]["Properties"], resource_map)
            cls.delete(resource_map, logical_id, parsed.physical_resource_id, properties)
            resource_map._resource_json_map.pop(logical_id)

    @classmethod
    def record(cls, body: str) -> None:
        """Keeps the answer for send(); never moto's verify_readiness, which would create the stack's
        remaining resources on this (the response's) thread while send() still waits on the other."""
        answer = json.loads(body)
        cls.answers[answer["RequestId"]] = answer


def create_stack(backend: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Stops at a failed custom resource, as CloudFormation does, instead of creating what reads it.
    (moto creates resources lazily, from its export check as well as from create_resources, so the
    stop is caught around the whole create.)"""
    try:
        return _ORIGINAL_CREATE_STACK(backend, name, *args, **kwargs)
    except CustomResourceFailed:
        stack = backend.get_stack(name)
        # A failed stack has no outputs; moto would evaluate them on DescribeStacks, creating the rest.
        stack.output_map._output_json_map = {}
        # Gap: moto does not roll a failed create back. CloudFormation deletes what it created, custom
        # resources first (with the physical id their function answered, even for the failed one).
        resources = stack.resource_map
        resources._resource_json_map = {
            logical_id: resource
            for logical_id, resource in resources._resource_json_map.items()
            if logical_id in resources._parsed_resources
        }
        stack.status = "ROLLBACK_IN_PROGRESS"
        resources.delete()
        resources._resource_json_map = {}  # all gone: the stack's own DeleteStack has nothing left to do
        stack.status = "ROLLBACK_COMPLETE"
        stack._add_stack_event("ROLLBACK_COMPLETE")
        return stack


class _Answer(BaseHTTPRequestHandler):
    """A function's answer, PUT to its ResponseURL (the cfn-response module's way, and any HTTP client's)."""

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        CustomResources.record(self.rfile.read(length).decode("utf-8"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the answers are the local CloudFormation's business."""


@contextmanager
def response_endpoint() -> Iterator[None]:
    """Where a custom resource's function answers, for as long as the context lasts: an HTTP endpoint of the
    local CloudFormation's own on 127.0.0.1, so an answer never depends on how moto's server handles its own
    response URL (which changed between moto releases). crhelper's answers skip it (ResponseSink)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    previous, CustomResources.endpoint = CustomResources.endpoint, f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield
    finally:
        CustomResources.endpoint = previous
        server.shutdown()
        server.server_close()


class ResponseSink:
    """Gap: crhelper answers CloudFormation with an HTTPS PUT to the pre-signed ResponseURL (and retries
    forever). The local CloudFormation waits in this same process (CustomResources.send), so the answer is
    handed to it here, as crhelper's utils.HTTPSConnection: no socket, and nothing of moto's own handling of
    the response URL, which changes between moto releases."""

    def __init__(self, host: str, context: Any = None, **_: Any) -> None:
        self.host = host

    def request(self, method: str, url: str, body: str | bytes = "", headers: Any = None) -> None:
        CustomResources.record(body.decode("utf-8") if isinstance(body, bytes) else body)

    def getresponse(self) -> Any:
        return types.SimpleNamespace(status=200, reason="OK")


def _unused_tls_context(purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH) -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


# What crhelper's utils module sees as `ssl`. Before each answer it makes a TLS context with the system's
# CA certificates (ssl.create_default_context: 50 ms here, reading the whole bundle), which the plain
# connection above never uses: the same context, without the certificates read.
CRHELPER_SSL = types.SimpleNamespace(
    Purpose=ssl.Purpose, CERT_NONE=ssl.CERT_NONE, create_default_context=_unused_tls_context
)
