"""Deploys template.yaml into the local AWS the way `sam deploy` would, minus the SAM service.

sam build makes the artifacts; they are zipped into the emulator's S3; samtranslator expands the
template offline (the same expansion the Service Catalog product uses); the emulator's
CloudFormation creates the stack, and its custom resource runs the real state machine.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
from samtranslator.yaml_helper import yaml_parse

from scripts.product_template import expand

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "localaws"
ARTIFACTS = "localaws-artifacts"
STACK = "expel-cloudtrail-onboarding"
LOCATIONS = {"CodeUri": "AWS::Serverless::Function", "ContentUri": "AWS::Serverless::LayerVersion"}


class DeployFailed(Exception):
    """The stack did not reach CREATE_COMPLETE; the message has CloudFormation's reason."""


def build() -> Path:
    """sam build into .aws-sam/localaws, with the Lambda runtime's python first on PATH."""
    sam = ROOT / ".venv-tools" / "sam" / "bin" / "sam"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    env.pop("AWS_ENDPOINT_URL", None)
    subprocess.run(  # noqa: S603 - a fixed command line
        [str(sam), "build", "--template", str(ROOT / "template.yaml"), "--build-dir", str(BUILD), "--cached"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return BUILD / "template.yaml"


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def packaged_template(built: Path) -> dict[str, Any]:
    """The built template with every code location uploaded to the emulator's S3, as sam package does."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=ARTIFACTS)
    template: dict[str, Any] = yaml_parse(built.read_text(encoding="utf-8"))
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                s3.put_object(Bucket=ARTIFACTS, Key=f"{name}.zip", Body=zipped(built.parent / properties[key]))
                properties[key] = f"s3://{ARTIFACTS}/{name}.zip"
        if resource.get("Type") == "AWS::Lambda::Function" and isinstance(properties.get("Code"), str):
            # A plain function (LocateFunction): sam package turns its folder into S3Bucket and S3Key.
            s3.put_object(Bucket=ARTIFACTS, Key=f"{name}.zip", Body=zipped(built.parent / properties["Code"]))
            properties["Code"] = {"S3Bucket": ARTIFACTS, "S3Key": f"{name}.zip"}
        if "DefinitionUri" in properties:
            body = (ROOT / "statemachine" / Path(properties["DefinitionUri"]).name).read_bytes()
            s3.put_object(Bucket=ARTIFACTS, Key=f"{name}.asl.json", Body=body)
            properties["DefinitionUri"] = f"s3://{ARTIFACTS}/{name}.asl.json"
    return template


def deploy(parameters: dict[str, str], region: str = "us-east-1", timeout: float = 120) -> dict[str, str]:
    """Create (or update) the stack; its outputs."""
    # samtranslator's translator warns, when collected, about usage metrics it never sends offline.
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    template = expand(packaged_template(build()), region)
    cloudformation = boto3.client("cloudformation")
    arguments: dict[str, Any] = {
        "StackName": STACK,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    }
    existing = [
        s
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackName"] == STACK and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    if existing and existing[0]["StackStatus"] == "ROLLBACK_COMPLETE":
        # As in CloudFormation, a stack whose create rolled back can only be deleted, then created anew.
        cloudformation.delete_stack(StackName=STACK)
        existing = []
    if existing:
        cloudformation.update_stack(**arguments)
    else:
        cloudformation.create_stack(**arguments)
    return wait(cloudformation, timeout)


def wait(cloudformation: Any, timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        status = stack["StackStatus"]
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
        if status.endswith("FAILED") or "ROLLBACK" in status:
            events = cloudformation.describe_stack_events(StackName=STACK)["StackEvents"]
            reasons = [e.get("ResourceStatusReason", "") for e in events if e.get("ResourceStatusReason")]
            raise DeployFailed(f"{STACK} is {status}: {reasons[:1]}")
        time.sleep(0.25)
    raise DeployFailed(f"{STACK} was not complete after {timeout:.0f} s")


def destroy() -> None:
    boto3.client("cloudformation").delete_stack(StackName=STACK)
