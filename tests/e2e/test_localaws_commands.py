"""The local AWS's separate commands, each in its own process, as a person would run them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.cfn_template import ROOT

ENVIRONMENT = {
    **os.environ,
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    # This checkout's package and localaws, as pytest's pythonpath gives the tests (not an editable
    # install's, which may point at another checkout).
    "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "onboarding"), str(ROOT)]),
}


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "localaws", "start"], cwd=ROOT, env=ENVIRONMENT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        yield found.group(0)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(*argv: str, endpoint: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and modules
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        env={**ENVIRONMENT, "LOCALAWS_ENDPOINT": endpoint},
        check=False,
        capture_output=True,
        text=True,
        timeout=240,
    )


def command(*argv: str, endpoint: str) -> str:
    result = run(*argv, endpoint=endpoint)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_start_seed_deploy_check_destroy_from_separate_processes(endpoint: str) -> None:
    seeded = json.loads(command("localaws", "seed", endpoint=endpoint))
    assert seeded["bucket"].startswith("aws-controltower-logs-")
    outputs = json.loads(command("localaws", "deploy", endpoint=endpoint))
    assert outputs["ManagementAccountId"] == "111111111111"
    checked = command(
        "expel_onboarding", "check", "--region", "us-east-1", "--endpoint-url", endpoint, "--json", endpoint=endpoint
    )
    assert {step["Status"] for step in json.loads(checked)["Steps"]} == {"OK"}
    assert "deleted expel-cloudtrail-onboarding" in command("localaws", "destroy", endpoint=endpoint)
    assert "nothing to delete" in command("localaws", "destroy", endpoint=endpoint)


def failing(*argv: str, endpoint: str) -> str:
    result = run(*argv, endpoint=endpoint)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


def test_mistakes_say_what_was_found_and_the_fix_without_a_traceback(endpoint: str) -> None:
    assert "seed first" in failing("localaws", "deploy", endpoint=endpoint).lower()
    command("localaws", "seed", endpoint=endpoint)
    assert "already seeded" in failing("localaws", "seed", endpoint=endpoint)
    # CloudFormation's ValidationError, whose message is the parameter's ConstraintDescription.
    refused = failing("localaws", "deploy", "--workbench-external-id", "acme-corp", endpoint=endpoint)
    assert "deploy: CloudFormation refused expel-org: Parameter 'WorkbenchExternalId' must be your Workbench" in refused
    assert "nothing answers at http://127.0.0.1:9" in failing("localaws", "seed", endpoint="http://127.0.0.1:9")
    assert "has no scheme" in failing("localaws", "seed", endpoint="127.0.0.1:9")
