"""Gap: moto's custom resources. moto sends a custom resource only Create, to a ResponseURL without a
scheme; it ignores the PhysicalResourceId and a FAILED status in the response, never sends Delete, and
does not roll a failed create back. CloudFormation does all of that, and the bridge relies on it
(AWS CloudFormation User Guide, "Custom resources":
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources.html).

cloudformation_gaps() (localaws.cloudformation) installs them.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from typing import Any, ClassVar

from moto import settings as moto_settings
from moto.awslambda.models import lambda_backends
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.models import CloudFormationBackend, cloudformation_backends
from moto.cloudformation.parsing import clean_json

_ORIGINAL_CREATE_STACK = CloudFormationBackend.create_stack


class CustomResources:
    """Gap: moto sends custom resources only Create, to a ResponseURL without a scheme, ignores
    the PhysicalResourceId and a FAILED status in the response, and never sends Delete. This sends
    Create and (before anything else is deleted, as CloudFormation's dependency order would) Delete,
    with the physical id the function answered, and records failures on the stack."""

    physical_ids: ClassVar[dict[tuple[str, str], str]] = {}
    reasons: ClassVar[dict[tuple[str, str], str]] = {}

    @staticmethod
    def response_url(region_name: str, stack_id: str) -> str:
        return f"http://localhost:{moto_settings.moto_server_port()}/cloudformation_{region_name}/cfnresponse?stack={stack_id}"

    @classmethod
    def create(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> CustomModel:
        properties = cloudformation_json["Properties"]
        function = lambda_backends[account_id][region_name].get_function(properties["ServiceToken"])
        # moto's own create_from_cloudformation_json instantiates CustomModel the same way.
        resource = CustomModel(region_name, str(uuid.uuid4()), kwargs["LogicalId"], resource_name)  # type: ignore[abstract]
        stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
        stack.add_custom_resource(resource)
        event = cls.event("Create", kwargs["StackId"], kwargs["LogicalId"], kwargs["ResourceType"], properties)
        # Gap: moto goes on creating the resources that read this one's attributes (Fn::GetAtt) before
        # the function answers, so they get None. CloudFormation waits for the answer: so do we.
        invocation = threading.Thread(target=function.invoke, args=(json.dumps(event), {}, {}), daemon=True)
        invocation.start()
        invocation.join(timeout=float(properties.get("ServiceTimeout", 3600)))
        if not resource.is_created():
            # Parsed, so the rollback sends it a Delete: a failed create may have written before failing.
            stack.resource_map._parsed_resources[kwargs["LogicalId"]] = resource
            reason = cls.reasons.get((kwargs["StackId"], kwargs["LogicalId"]), "no response")
            raise CustomResourceFailed(f"{kwargs['LogicalId']}: {reason}")
        return resource

    @staticmethod
    def event(request: str, stack_id: str, logical_id: str, resource_type: str, properties: Any) -> dict[str, Any]:
        return {
            "RequestType": request,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": CustomResources.response_url(stack_id.split(":")[3], stack_id),
            "StackId": stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": properties,
        }

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
            resource_json = resource_map._resource_json_map[logical_id]
            properties = clean_json(resource_json["Properties"], resource_map)
            stack_id = resource_map.stack_id
            event = cls.event("Delete", stack_id, logical_id, resource_json["Type"], properties)
            event["PhysicalResourceId"] = cls.physical_ids.get((stack_id, logical_id), parsed.physical_resource_id)
            function = lambda_backends[resource_map._account_id][resource_map._region_name].get_function(
                properties["ServiceToken"]
            )
            function.invoke(json.dumps(event), {}, {})
            resource_map._resource_json_map.pop(logical_id)

    @classmethod
    def record_response(cls, response: Any) -> None:
        """Records the answer; never moto's verify_readiness, which would create the stack's remaining
        resources on this (the response's) thread while create() still waits on the other."""
        body = json.loads(response.body)
        key = (body["StackId"], body["LogicalResourceId"])
        cls.physical_ids[key] = body.get("PhysicalResourceId", "")
        stack = response.cloudformation_backend.get_stack(body["StackId"])
        if body.get("Status") == "SUCCESS":
            stack.get_custom_resource(body["LogicalResourceId"]).set_data(body.get("Data") or {})
        if body.get("Status") == "FAILED":
            cls.reasons[key] = body.get("Reason", "")
            stack.status = "CREATE_FAILED"
            stack._add_stack_event("CREATE_FAILED", resource_status_reason=body.get("Reason", ""))


class CustomResourceFailed(Exception):
    """A custom resource answered FAILED (or not at all): CloudFormation stops creating the stack."""


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


def plain_http_connection(host: str, context: Any = None, **kwargs: Any) -> http.client.HTTPConnection:
    """Gap: crhelper always answers CloudFormation over HTTPS (and retries forever); the local
    CloudFormation's response URL is plain HTTP on 127.0.0.1."""
    return http.client.HTTPConnection(host, **kwargs)
