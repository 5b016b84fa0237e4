"""Deploys template.yaml into the local AWS the way `sam deploy` would, minus the SAM service.

sam build makes the artifacts; they are zipped into the emulator's S3; samtranslator expands the
template offline (the same expansion the Service Catalog product uses); the emulator's
CloudFormation creates the stack, and its custom resource runs the real state machine.
deploy_org does the same for org/management.yaml, as the management account: its key-policy
delegate is what the Log Archive stack's KeyPolicyDelegateArn names.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import io
import json
import logging
import time
import zipfile
from contextlib import nullcontext
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localaws import ROOT, clients, files, sam_build, templates
from localaws.accounts import MANAGEMENT, as_account

ARTIFACTS = "localaws-artifacts"
ORG_ARTIFACTS = "localaws-org-artifacts"
STACK = "expel-cloudtrail-onboarding"
ORG_STACK = "expel-org"
EXPANDED = ROOT / ".aws-sam" / "localaws-expanded"  # each packaged template without the SAM transform
ZIPS = ".localaws-zips"  # in a build folder: its artifacts zipped, per build
LOCATIONS = {"CodeUri": "AWS::Serverless::Function", "ContentUri": "AWS::Serverless::LayerVersion"}


class DeployFailed(Exception):
    """The stack did not reach CREATE_COMPLETE; the message has CloudFormation's reason."""


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


@lru_cache(maxsize=32)
def _zipped_build(folder: Path, build: str) -> bytes:
    """zipped(folder) once per build (build: its stamp), kept beside the build for the next process: the
    layer takes a quarter of a second, and each `python -m localaws deploy` is a process of its own."""
    key = hashlib.sha256(f"{folder.name}:{build}".encode()).hexdigest()
    return files.kept(folder.parent / ZIPS / f"{key}.zip", lambda: zipped(folder))


def packaged_template(built: Path, artifacts: str = ARTIFACTS) -> dict[str, Any]:
    """The built template with every code location uploaded to the emulator's S3, as sam package does."""
    s3 = clients.s3()
    s3.create_bucket(Bucket=artifacts)
    with sam_build.lock(fcntl.LOCK_SH):  # another process's build must not rewrite what is read here
        build = (built.parent / sam_build.STAMP).read_text(encoding="utf-8")
        template = copy.deepcopy(_parsed_build(built, build))
        _upload_code(s3, template, built.parent, artifacts, build)
    return template


@lru_cache(maxsize=8)
def _parsed_build(built: Path, build: str) -> dict[str, Any]:
    """The built template, parsed once per build (build: its stamp)."""
    return templates.parse(built.read_text(encoding="utf-8"))


def artifact_folders(built: Path) -> list[Path]:
    """The folders a built template names as code (each function's, each layer's), as sam package zips them."""
    resources = _parsed_build(built, (built.parent / sam_build.STAMP).read_text(encoding="utf-8"))["Resources"]
    folders = []
    for resource in resources.values():
        properties = resource.get("Properties", {})
        names = (properties.get(key) for key in ("CodeUri", "ContentUri", "Code"))
        folders += [built.parent / name for name in names if isinstance(name, str)]
    return folders


def _upload_code(s3: Any, template: dict[str, Any], folder: Path, artifacts: str, build: str) -> None:
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                s3.put_object(Bucket=artifacts, Key=f"{name}.zip", Body=_zipped_build(folder / properties[key], build))
                properties[key] = f"s3://{artifacts}/{name}.zip"
        if resource.get("Type") == "AWS::Lambda::Function" and isinstance(properties.get("Code"), str):
            # A plain function (LocateFunction): sam package turns its folder into S3Bucket and S3Key.
            body = _zipped_build(folder / properties["Code"], build)
            s3.put_object(Bucket=ARTIFACTS, Key=f"{name}.zip", Body=body)
            properties["Code"] = {"S3Bucket": ARTIFACTS, "S3Key": f"{name}.zip"}
        if "DefinitionUri" in properties:
            body = (ROOT / "statemachine" / Path(properties["DefinitionUri"]).name).read_bytes()
            s3.put_object(Bucket=ARTIFACTS, Key=f"{name}.asl.json", Body=body)
            properties["DefinitionUri"] = f"s3://{ARTIFACTS}/{name}.asl.json"


def deploy(parameters: dict[str, str], region: str = "us-east-1", timeout: float = 120) -> dict[str, str]:
    """Create (or update) the stack; its outputs."""
    # samtranslator's translator warns, when collected, about usage metrics it never sends offline.
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    template = _expanded(packaged_template(sam_build.build()), region)
    return create_or_update(STACK, template, parameters, timeout)


def deploy_org(parameters: dict[str, str], region: str = "us-east-1", timeout: float = 120) -> dict[str, str]:
    """org/management.yaml, built, packaged and created as the management account; its outputs."""
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    built = sam_build.build_org()
    with as_account(MANAGEMENT):
        template = _expanded(packaged_template(built, ORG_ARTIFACTS), region)
        return create_or_update(ORG_STACK, template, parameters, timeout)


def org_outputs() -> dict[str, str] | None:
    """The management-account stack's outputs, or None when it is not deployed."""
    with as_account(MANAGEMENT):
        cloudformation = clients.cloudformation()
        for summary in cloudformation.list_stacks()["StackSummaries"]:
            if summary["StackName"] == ORG_STACK and summary["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
                stack = cloudformation.describe_stacks(StackName=ORG_STACK)["Stacks"][0]
                return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    return None


def create_or_update(
    stack: str, template: dict[str, Any], parameters: dict[str, str], timeout: float
) -> dict[str, str]:
    """Create (or update) a stack from its expanded template, in the account acting now; its outputs."""
    cloudformation = clients.cloudformation()
    arguments: dict[str, Any] = {
        "StackName": stack,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    }
    existing = [
        s
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackName"] == stack and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    if existing and existing[0]["StackStatus"] == "ROLLBACK_COMPLETE":
        # As in CloudFormation, a stack whose create rolled back can only be deleted, then created anew.
        cloudformation.delete_stack(StackName=stack)
        existing = []
    try:
        if existing:
            cloudformation.update_stack(**arguments)
        else:
            cloudformation.create_stack(**arguments)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ValidationError":
            raise
        # Refused before anything was created (a parameter breaks its constraint): CloudFormation's words.
        raise DeployFailed(f"CloudFormation refused {stack}: {exc.response['Error']['Message']}") from exc
    return wait(cloudformation, timeout, stack)


def wait(cloudformation: Any, timeout: float, name: str = STACK) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
        if status.endswith("FAILED") or "ROLLBACK" in status:
            events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
            reasons = [e.get("ResourceStatusReason", "") for e in events if e.get("ResourceStatusReason")]
            raise DeployFailed(f"{name} is {status}: {reasons[:1]}")
        time.sleep(0.25)
    raise DeployFailed(f"{name} was not complete after {timeout:.0f} s")


def exists() -> bool:
    """Whether the onboarding stack is there to delete."""
    stacks = clients.cloudformation().list_stacks()["StackSummaries"]
    return any(s["StackName"] == STACK and s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)


def destroy() -> None:
    clients.cloudformation().delete_stack(StackName=STACK)


def destroy_all(timeout: float = 60) -> list[str]:
    """Both stacks, as `sam delete` would take each: the Log Archive stack first (its KeyPolicy step asks the
    management account's delegate to take our statement out), then the management account's. The names
    deleted."""
    deleted = []
    for name, account in ((STACK, None), (ORG_STACK, MANAGEMENT)):
        with as_account(account) if account else nullcontext():
            cloudformation = clients.cloudformation()
            if not _present(cloudformation, name):
                continue
            cloudformation.delete_stack(StackName=name)
            _wait_deleted(cloudformation, name, timeout)
            deleted.append(name)
    return deleted


def _present(cloudformation: Any, name: str) -> bool:
    stacks = cloudformation.list_stacks()["StackSummaries"]
    return any(s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)


def _wait_deleted(cloudformation: Any, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _present(cloudformation, name):
            return
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        if stack["StackStatus"] == "DELETE_FAILED":
            raise DeployFailed(f"{name} is DELETE_FAILED: {stack.get('StackStatusReason', '')}")
        time.sleep(0.25)
    raise DeployFailed(f"{name} was not deleted within {timeout:.0f} s")


def _expanded(template: dict[str, Any], region: str) -> dict[str, Any]:
    """sam_transform.expand(template, region), kept on disk per template, region and samtranslator version:
    a process's first expansion takes half a second (samtranslator loads its plugins and schemas), and
    each `python -m localaws deploy` is a process of its own, expanding two templates."""
    text = json.dumps(template, sort_keys=True)
    key = hashlib.sha256(f"{version('aws-sam-translator')}:{region}:{text}".encode()).hexdigest()

    def expanded() -> bytes:
        # Imported here: samtranslator takes half a second to import, and seed and destroy never expand.
        from localaws.sam_transform import expand

        return json.dumps(expand(template, region)).encode("utf-8")

    return dict(json.loads(files.kept(EXPANDED / f"{key}.json", expanded)))
