"""moto's CloudFormation with every gap the onboarding meets filled: the resource models it lacks
(localaws.cloudformation_models), the custom-resource lifecycle and the rollback
(localaws.custom_resources), the update (localaws.stack_updates), and parameter validation
(localaws.parameter_constraints)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from crhelper import utils as crhelper_utils
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.stepfunctions.models import StateMachine

from localaws import cloudformation_models, custom_resources, parameter_constraints, stack_updates

_ORIGINAL_UPDATE_STACK = CloudFormationBackend.update_stack


def _create_stack(backend: Any, name: str, template: str, parameters: dict[str, Any], **kwargs: Any) -> Any:
    parameter_constraints.validate(template, parameters)
    return custom_resources.create_stack(backend, name, template, parameters, **kwargs)


def _update_stack(backend: Any, name: str, template: str, role_arn: str | None, **kwargs: Any) -> Any:
    stack = backend.get_stack(name)
    resolved = backend._resolve_update_parameters(instance=stack, incoming_params=kwargs["parameters"])
    parameter_constraints.validate(template or stack.template, resolved)
    previous = stack.template
    try:
        return _ORIGINAL_UPDATE_STACK(backend, name, template, role_arn, **kwargs)
    except stack_updates.UpdateFailed as failure:
        if failure.status == "UPDATE_ROLLBACK_COMPLETE":
            stack.template = previous
            stack._parse_template()
        stack.status = failure.status
        stack._add_stack_event(failure.status, resource_status_reason=str(failure))
        return stack


@contextmanager
def cloudformation_gaps() -> Iterator[None]:
    """Every CloudFormation gap, for as long as the context lasts."""
    original_delete = cfn_parsing.ResourceMap.delete

    def delete(resource_map: Any) -> None:
        custom_resources.CustomResources.delete_first(resource_map)
        original_delete(resource_map)

    def process_cfn_response(response: Any) -> Any:
        custom_resources.CustomResources.record_response(response)
        return 200, {"status": 200}, json.dumps("{}")

    with (
        mock.patch.object(cfn_parsing, "resource_class_from_type", cloudformation_models.resource_class_from_type),
        mock.patch.object(cfn_parsing, "clean_json", cloudformation_models.clean_json),
        mock.patch.object(crhelper_utils, "HTTPSConnection", custom_resources.plain_http_connection),
        mock.patch.object(crhelper_utils, "ssl", custom_resources.CRHELPER_SSL),
        mock.patch.object(CustomModel, "create_from_cloudformation_json", custom_resources.CustomResources.create),
        mock.patch.object(
            StateMachine, "create_from_cloudformation_json", cloudformation_models.state_machine_from_cloudformation
        ),
        mock.patch.object(cfn_parsing.ResourceMap, "delete", delete),
        mock.patch.object(cfn_parsing.ResourceMap, "update", stack_updates.update),
        mock.patch.object(CloudFormationResponse, "process_cfn_response", process_cfn_response),
        mock.patch.object(CloudFormationBackend, "create_stack", _create_stack),
        mock.patch.object(CloudFormationBackend, "update_stack", _update_stack),
    ):
        yield
