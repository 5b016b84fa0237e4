"""moto's CloudFormation with every gap the onboarding meets filled: the resource models it lacks
(localaws.cloudformation_models), the custom-resource lifecycle and the rollback
(localaws.custom_resources), the update (localaws.stack_updates), and parameter validation
(localaws.parameter_constraints)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudformation.models import CloudFormationBackend

from localaws import custom_resources, parameter_constraints, replacements, stack_updates

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


def deleting_custom_resources_first(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """ResourceMap.delete, sending each custom resource its Delete before the rest goes (as CloudFormation
    deletes in reverse dependency order, and a custom resource's function must still be there to answer)."""

    def delete(resource_map: Any) -> None:
        custom_resources.CustomResources.delete_first(resource_map)
        original(resource_map)

    return delete


@contextmanager
def cloudformation_gaps() -> Iterator[None]:
    """Every CloudFormation gap, for as long as the context lasts."""
    with (
        replacements.applied(
            "cloudformation-resource-models",
            "cloudformation-no-value",
            "crhelper-answers-in-process",
            "crhelper-no-ca-bundle",
            "cloudformation-custom-resources",
            "cloudformation-state-machines",
            "cloudformation-state-machines-deleted",
            "cloudformation-custom-resources-deleted-first",
            "cloudformation-stack-updates",
            "cloudformation-create-rollback",
            "cloudformation-update-rollback",
        ),
        custom_resources.response_endpoint(),
    ):
        yield
