"""Gap: the resource updates moto lacks, or does halfway, for the types a stack update of ours changes.
moto's role update changes only the description and session duration, its key has no update at all,
its function update fails on Layers (which its create ignores),
and the models localaws adds (localaws.cloudformation_models) have none either. CloudFormation updates
a role's trust and inline policies and a key's policy, description and rotation in place, and replaces
a subscription, topic or queue policy, schedule or alarm whose properties changed (AWS CloudFormation
User Guide, "Update behaviors of stack resources":
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html).

localaws.stack_updates calls update() before moto's own update.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.iam.models import iam_backends
from moto.kms.models import kms_backends

from localaws import cloudformation_models

Update = Callable[[Any, Any, dict[str, Any]], Any]


def _role(resource_map: Any, role: Any, properties: dict[str, Any]) -> Any:
    iam = iam_backends[resource_map._account_id]["aws"]
    iam.update_role(role.name, properties.get("Description", ""), properties.get("MaxSessionDuration", 3600))
    iam.update_assume_role_policy(role.name, json.dumps(properties["AssumeRolePolicyDocument"]))
    policies = {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies", [])}
    for name in set(iam.list_role_policies(role.name)) - policies.keys():
        iam.delete_role_policy(role.name, name)
    for name, document in policies.items():
        iam.put_role_policy(role.name, name, json.dumps(document))
    return role


def _key(resource_map: Any, key: Any, properties: dict[str, Any]) -> Any:
    kms = kms_backends[resource_map._account_id][resource_map._region_name]
    kms.put_key_policy(key.id, json.dumps(properties["KeyPolicy"]))
    kms.update_key_description(key.id, properties.get("Description", ""))
    if str(properties.get("EnableKeyRotation", "false")).lower() == "true":
        kms.enable_key_rotation(key.id)
    else:
        kms.disable_key_rotation(key.id)
    return key


def _function(resource_map: Any, function: Any, properties: dict[str, Any]) -> Any:
    # As moto's create does, without Layers: the in-process runtime imports the layer from the checkout.
    function.update_configuration({k: v for k, v in properties.items() if k != "Layers"})
    function.update_function_code(properties["Code"])
    return function


def _replaced(resource_map: Any, model: Any, properties: dict[str, Any]) -> Any:
    model.delete(resource_map._account_id, resource_map._region_name)
    return type(model).create_from_cloudformation_json(
        model.physical_id, {"Properties": properties}, resource_map._account_id, resource_map._region_name
    )


UPDATES: dict[str, Update] = {
    "AWS::IAM::Role": _role,
    "AWS::KMS::Key": _key,
    "AWS::Lambda::Function": _function,
    **dict.fromkeys(cloudformation_models.MODELS, _replaced),
}


def update(resource_map: Any, resource_type: str, parsed: Any, properties: dict[str, Any]) -> Any | None:
    """The updated resource, or None where moto's own update is faithful enough."""
    handler = UPDATES.get(resource_type)
    return handler(resource_map, parsed, properties) if handler else None
