"""Every AWS operation the Lambda functions can call, read from their code.

The functions (functions/*/app.py) and the modules of expel_onboarding they import at module level (the
operator's modules, imported only for type checking or inside the CLI's functions, are not Lambda code) are
parsed, and each call of a client method named after a botocore operation, or of get_paginator(<name>), is
an operation, on the service its receiver names (a client variable: s3, kms, sfn, ...).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import botocore.session
from botocore import xform_name

from tests.support.cfn_template import ROOT

PACKAGE = ROOT / "layers" / "onboarding" / "expel_onboarding"
# A client variable's name, and the service (as botocore names it) it is a client of.
RECEIVERS = {
    "s3": "s3",
    "kms": "kms",
    "sns": "sns",
    "iam": "iam",
    "sts": "sts",
    "sfn": "stepfunctions",
    "organizations": "organizations",
    "cloudtrail": "cloudtrail",
    "client": "lambda",  # clients.invoke_with
}
# Calls named like an operation that are ours: a module's function, or the Delegate's invoke callable.
NOT_CLIENTS = {"self", "relay", "replay", "verify", "notification", "ownership", "discovery", "subscription"}


# The operations no onboarding run makes: the relay's publish, and the bridge's and the CLI's calls on the runs.
NOT_IN_A_RUN = frozenset(
    {
        "sns:PublishBatch",
        "stepfunctions:StartExecution",
        "stepfunctions:DescribeExecution",
        "stepfunctions:GetExecutionHistory",
    }
)


class UnknownReceiver(Exception):
    """A call named like an AWS operation on a name that is neither a known client nor one of ours."""


def _path(module: str) -> Path:
    """The file of an expel_onboarding module, as a dotted name below the package ("key_policy.kms")."""
    found = PACKAGE.joinpath(*module.split("."))
    return found / "__init__.py" if found.is_dir() else found.with_suffix(".py")


def _module_imports(path: Path) -> set[str]:
    """The expel_onboarding modules a file imports at module level, outside `if TYPE_CHECKING:`."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "expel_onboarding":
            below = node.module.removeprefix("expel_onboarding").lstrip(".")
            for alias in node.names:
                name = f"{below}.{alias.name}" if below else alias.name
                found.add(name if _path(name).exists() else below)
    return {name for name in found if name and _path(name).exists()}


def lambda_code() -> list[Path]:
    handlers = sorted((ROOT / "functions").glob("*/app.py"))
    modules: set[str] = set()
    todo = set().union(*(_module_imports(handler) for handler in handlers))
    while todo:
        name = todo.pop()
        if name not in modules:
            modules.add(name)
            todo |= _module_imports(_path(name))
            # A package's modules come with it.
            if _path(name).name == "__init__.py":
                children = _path(name).parent.glob("*.py")
                todo |= {f"{name}.{child.stem}" for child in children if child.stem != "__init__"}
    return handlers + sorted(_path(name) for name in modules)


@cache
def _operations_of(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def operations_called() -> set[str]:
    """ "service:Operation" for each AWS call in the Lambda code."""
    every = {method for service in set(RECEIVERS.values()) for method in _operations_of(service)}
    found: set[str] = set()
    for path in lambda_code():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            method, receiver = node.func.attr, ast.unparse(node.func.value).split(".")[-1]
            if method == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                method = str(node.args[0].value)
            if method not in every or receiver in NOT_CLIENTS:
                continue
            if receiver not in RECEIVERS:
                raise UnknownReceiver(f"{path.name}: {receiver}.{method}(...): name its service in RECEIVERS")
            found.add(f"{RECEIVERS[receiver]}:{_operations_of(RECEIVERS[receiver])[method]}")
    return found
