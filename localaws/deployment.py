"""The onboarding workflow deployed into moto as template.yaml describes it, minus CloudFormation, for
the workflow tests and make bench (the local deploy, localaws.deploy, goes through CloudFormation).

Each function is created from its own folder's code with the stack's environment, and the state
machine from the very ASL file template.yaml references, with its DefinitionSubstitutions filled in.
The stack's other resources come from localaws.stack_resources.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from expel_onboarding.workflow import history, summary_from_history
from localaws import ROOT, clients, templates

TEMPLATE: dict[str, Any] = templates.read(ROOT / "template.yaml")
STATE_MACHINE = TEMPLATE["Resources"]["OnboardingStateMachine"]["Properties"]
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class Workflow:
    state_machine_arn: str
    bridge_function: str
    function_arns: dict[str, str]


def code_zip(code_uri: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((ROOT / code_uri).rglob("*.py")):
            archive.write(path, path.relative_to(ROOT / code_uri).as_posix())
    return buffer.getvalue()


# The Globals variables that are plain strings (Powertools settings); the rest come from the stack.
GLOBAL_ENVIRONMENT = {
    name: value
    for name, value in TEMPLATE["Globals"]["Function"]["Environment"]["Variables"].items()
    if isinstance(value, str)
}


def create_function(logical_id: str, role_arn: str, environment: dict[str, str], name: str = "expel") -> str:
    properties = TEMPLATE["Resources"][logical_id]["Properties"]
    environment = {**GLOBAL_ENVIRONMENT, **environment}
    function = clients.lambda_().create_function(
        FunctionName=f"{name}-{logical_id}",
        Runtime=TEMPLATE["Globals"]["Function"]["Runtime"],
        Role=role_arn,
        Handler=properties["Handler"],
        Code={"ZipFile": code_zip(properties["CodeUri"])},
        Timeout=int(properties.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])),
        Environment={"Variables": environment},
    )
    return str(function["FunctionArn"])


def definition(function_arns: dict[str, str]) -> str:
    """The ASL file with ${Name} replaced as CloudFormation's DefinitionSubstitutions would."""
    text = (ROOT / str(STATE_MACHINE["DefinitionUri"])).read_text(encoding="utf-8")
    for name, value in STATE_MACHINE["DefinitionSubstitutions"].items():
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute != "Arn":
            raise ValueError(f"DefinitionSubstitutions.{name} reads {logical_id}.{attribute}; only .Arn is made here")
        text = text.replace("${" + name + "}", str(function_arns[logical_id]))
    leftover = re.findall(r"\$\{\w+\}", text)
    if leftover:
        raise ValueError(f"the ASL still holds {leftover} after DefinitionSubstitutions")
    return text


def deploy(environment: dict[str, str], name: str = "expel") -> Workflow:
    """The functions, the state machine and the bridge; name keeps a second deployment apart."""
    role_arn = clients.iam().create_role(
        RoleName=f"{name}-functions", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )["Role"]["Arn"]
    logical_ids = [value["Fn::GetAtt"][0] for value in STATE_MACHINE["DefinitionSubstitutions"].values()]
    function_arns = {logical_id: create_function(logical_id, role_arn, environment, name) for logical_id in logical_ids}
    state_machine_arn = clients.stepfunctions().create_state_machine(
        name=f"{name}-onboarding", definition=definition(function_arns), roleArn=role_arn, type="STANDARD"
    )["stateMachineArn"]
    bridge_environment = {**environment, "STATE_MACHINE_ARN": state_machine_arn}
    create_function("BridgeFunction", role_arn, bridge_environment, name)
    return Workflow(state_machine_arn, f"{name}-BridgeFunction", function_arns)


def run(workflow: Workflow, run_input: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    """Start a run and wait for it; the finished description."""
    sfn = clients.stepfunctions()
    execution = sfn.start_execution(
        stateMachineArn=workflow.state_machine_arn, name=f"test-{uuid.uuid4().hex}", input=json.dumps(run_input)
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution["executionArn"])
        if description["status"] != "RUNNING":
            return dict(description)
        # A run takes a few tenths of a second here; a poll is one describe call, a millisecond or two.
        time.sleep(0.02)
    raise TimeoutError(f"{execution['executionArn']} still running after {timeout} s")


def summary(description: dict[str, Any]) -> dict[str, Any]:
    events = list(history(clients.stepfunctions(), description["executionArn"]))
    found = summary_from_history(events)
    if found is None:
        raise LookupError(f"the run {description['executionArn']} never reached Outputs")
    return found
