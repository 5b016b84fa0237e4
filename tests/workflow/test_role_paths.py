"""Both ways the Expel role can exist in the Log Archive account work end to end."""

from __future__ import annotations

import json

import pytest

from localaws import clients, deployment, landing_zone, stack_resources
from localaws.aws_calls import AwsCalls
from tests.support.cfn_template import ROOT


@pytest.mark.parametrize("create_role", [True, False], ids=["stack-creates-the-role", "stackset-role"])
def test_apply_verifies_with_either_role(zone: landing_zone.LandingZone, create_role: bool) -> None:
    if not create_role:
        # What the org StackSet leaves in the Log Archive account: the member role template, deployed.
        clients.cloudformation().create_stack(
            StackName="StackSet-expel-role-1234",
            TemplateBody=(ROOT / "org" / "member-role.yaml").read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": "WorkbenchExternalId", "ParameterValue": landing_zone.EXTERNAL_ID}],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    environment = stack_resources.deploy_stack_resources(zone, create_role=create_role)
    workflow = deployment.deploy(environment)
    description = deployment.run(workflow, {"Mode": "apply"})
    assert description["status"] == "SUCCEEDED", description.get("cause")
    steps = {step["Name"]: step for step in json.loads(description["output"])["Steps"]}
    assert steps["Verify"]["Status"] == "OK", steps["Verify"]["Detail"]
    assert "ExpelTrailAssumeRole trusts Expel" in steps["Verify"]["Detail"]


def test_check_with_the_stacksets_role_also_verifies_its_trust_in_ten_calls(zone: landing_zone.LandingZone) -> None:
    clients.cloudformation().create_stack(
        StackName="StackSet-expel-role-1234",
        TemplateBody=(ROOT / "org" / "member-role.yaml").read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": "WorkbenchExternalId", "ParameterValue": landing_zone.EXTERNAL_ID}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    workflow = deployment.deploy(stack_resources.deploy_stack_resources(zone, create_role=False))
    deployment.run(workflow, {"Mode": "apply"})
    calls = AwsCalls().start()
    description = deployment.run(workflow, {"Mode": "check"})
    steps = {step["Name"]: step for step in json.loads(description["output"])["Steps"]}
    assert steps["Verify"]["Detail"].startswith("ExpelTrailAssumeRole (from the org StackSet) trusts Expel.")
    made = [call for call in calls.made if not call.startswith(("stepfunctions:", "lambda:"))]
    assert len(made) == 10, made
    assert calls.writes == []
