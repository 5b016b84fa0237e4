"""Gap: moto's UpdateStack. moto updates only the resources whose template text or parameters changed,
so a resource that reads a changed resource's attributes (Fn::GetAtt, Ref, Fn::Sub) keeps the old
values; it sends a custom resource no Update (the resource is dropped, and every Fn::GetAtt of it fails),
never deletes a replaced physical id, and does not roll a failed update back.

CloudFormation resolves every resource's properties again, in dependency order, and updates each whose
resolved properties changed; a custom resource gets Update with ResourceProperties and
OldResourceProperties, and a different PhysicalResourceId in its answer is a replacement, whose old id
gets Delete (with the old properties) in the cleanup after every update succeeded. Resources removed
from the template are deleted in that cleanup too. A failed update is rolled back by updating what
changed back to its previous properties (AWS CloudFormation User Guide, "Update behaviors of stack
resources": https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html;
custom resources' "Update" and "Delete" requests:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-delete.html).

cloudformation_gaps() (localaws.cloudformation) installs update() in place of ResourceMap.update; the
resource types moto cannot update, or updates halfway, are in localaws.resource_updates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from graphlib import TopologicalSorter
from typing import Any

from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.custom_model import CustomModel

from localaws import resource_updates
from localaws.cloudformation_models import clean_json
from localaws.custom_resources import CustomResourceFailed, CustomResources


class UpdateNotEmulated(Exception):
    """A resource whose resolved properties changed has no update in moto: the local AWS would
    otherwise keep it silently as it was."""


class UpdateFailed(Exception):
    """The update failed and was rolled back (or the rollback failed too): the stack's new status."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def update(resource_map: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
    """ResourceMap.update as CloudFormation does it (see the module's docstring)."""
    old_template, old_parameters = resource_map._template, dict(resource_map.input_parameters)
    # What each resource's properties resolve to now; _converge keeps it current as it updates.
    state = {
        logical_id: resolved(resource_map, logical_id)
        for logical_id, parsed in resource_map._parsed_resources.items()
        if logical_id in resource_map._resource_json_map and _is_resource(parsed)
    }
    try:
        cleanup = _converge(resource_map, template, parameters, state, old_template)
    except (CustomResourceFailed, UpdateNotEmulated) as failure:
        # CloudFormation's rollback is an update back to the previous template, cleanup included.
        try:
            for step in _converge(resource_map, old_template, old_parameters, state, template):
                step()
        except (CustomResourceFailed, UpdateNotEmulated) as second:
            raise UpdateFailed("UPDATE_ROLLBACK_FAILED", f"{failure}; the rollback failed too: {second}") from second
        raise UpdateFailed("UPDATE_ROLLBACK_COMPLETE", str(failure)) from failure
    for step in cleanup:
        step()


def _converge(
    resource_map: Any,
    template: dict[str, Any],
    parameters: dict[str, Any] | None,
    state: dict[str, Any],
    previous: dict[str, Any],
) -> list[Callable[[], None]]:
    """Creates what is new and updates what resolves differently, in dependency order; the cleanup
    (replaced physical ids, then what the template no longer has, dependants first)."""
    removed = {i: previous["Resources"][i] for i in state if i not in template["Resources"]}
    _load(resource_map, template, parameters)
    cleanup: list[Callable[[], None]] = []
    for logical_id in dependency_order(template["Resources"]):
        if logical_id not in state:
            _ = resource_map[logical_id]  # moto's lazy map creates it on first read
            if _is_resource(resource_map._parsed_resources.get(logical_id)):
                state[logical_id] = resolved(resource_map, logical_id)
            continue
        after = resolved(resource_map, logical_id)
        if after != state[logical_id]:
            old, state[logical_id] = state[logical_id], after  # a failed attempt counts: rollback undoes it
            cleanup.extend(_update_one(resource_map, logical_id, old, after))
    for logical_id in reversed(dependency_order(removed)):
        cleanup.append(_deletion(resource_map, logical_id, removed[logical_id], state.pop(logical_id)))
    return cleanup


def resolved(resource_map: Any, logical_id: str) -> Any:
    """A resource's properties with every intrinsic function resolved against the stack as it is now."""
    return clean_json(resource_map._resource_json_map[logical_id].get("Properties", {}), resource_map)


def references(value: Any) -> set[str]:
    """The logical ids (and parameters) a template value reads: Ref, Fn::GetAtt and Fn::Sub's ${...}."""
    if isinstance(value, list):
        return set().union(*(references(item) for item in value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, inner in value.items():
        if key == "Ref" and isinstance(inner, str):
            found.add(inner)
        elif key == "Fn::GetAtt":
            found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
        elif key == "Fn::Sub":
            text, variables = (inner, {}) if isinstance(inner, str) else (inner[0], inner[1])
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)} - set(variables)
            found |= references(variables)
        else:
            found |= references(inner)
    return found


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids with every resource after those it reads or DependsOn."""
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        depends = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        graph[logical_id] = (references(resource) | depends) & resources.keys()
    return list(TopologicalSorter(graph).static_order())


def _is_resource(parsed: Any) -> bool:
    return hasattr(parsed, "physical_resource_id") and not isinstance(parsed, (str, dict, list))


def _load(resource_map: Any, template: dict[str, Any], parameters: dict[str, Any] | None) -> None:
    """The new template and parameters, loaded as moto's own update loads them."""
    resource_map._template = template
    if parameters:
        resource_map.input_parameters = parameters
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = template["Resources"]


def _update_one(resource_map: Any, logical_id: str, old: Any, new: Any) -> list[Callable[[], None]]:
    """Updates one resource from its old to its new resolved properties; the cleanup it leaves."""
    parsed = resource_map._parsed_resources[logical_id]
    if isinstance(parsed, CustomModel):
        old_id = parsed.physical_resource_id
        new_id = CustomResources.update(resource_map, logical_id, old, new)
        if new_id == old_id:
            return []
        return [lambda: CustomResources.delete(resource_map, logical_id, old_id, old)]
    resource_json = resource_map._resource_json_map[logical_id]
    changed = resource_updates.update(resource_map, resource_json["Type"], parsed, new)
    if changed is None:
        changed = cfn_parsing.parse_and_update_resource(
            logical_id, resource_json, resource_map, resource_map._account_id, resource_map._region_name
        )
    if changed is None:
        raise UpdateNotEmulated(f"{logical_id} ({resource_json['Type']}): moto cannot update it")
    changed.cf_resource_type, changed.logical_resource_id = resource_json["Type"], logical_id  # as moto's own
    resource_map._parsed_resources[logical_id] = changed
    return []


def _deletion(resource_map: Any, logical_id: str, resource_json: Any, properties: Any) -> Callable[[], None]:
    """Cleanup of a resource the new template no longer has."""
    parsed = resource_map._parsed_resources[logical_id]

    def delete() -> None:
        if isinstance(parsed, CustomModel):
            resource_map._resource_json_map[logical_id] = resource_json  # send() reads its type there
            CustomResources.delete(resource_map, logical_id, parsed.physical_resource_id, properties)
            resource_map._resource_json_map.pop(logical_id)
        else:
            resource_map._delete_resource(parsed, resource_json)
        resource_map._parsed_resources.pop(logical_id, None)

    return delete
