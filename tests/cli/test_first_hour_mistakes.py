"""A first hour, made through the public commands (python -m localaws start/seed/deploy/destroy and
expel-onboarding), each in its own process, as a new user would run them: every mistake exits non-zero
(or recovers, where the command can), says what was found and the fix, and no traceback reaches the
person; after the fix, seed, deploy, check and destroy work from separate processes. The commands are
forked from a process that has imported boto3 already (tests/support/forked_commands.py); the local
AWS server is started as a person starts it."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support import forked_commands
from tests.support.cfn_template import ROOT
from tests.support.forked_commands import Ran

ENVIRONMENT = {
    **os.environ,
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_DEFAULT_REGION": "us-east-1",
    # This checkout's package and localaws, not an editable install's (which may be another checkout's).
    "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "onboarding"), str(ROOT)]),
}
NOWHERE = "http://127.0.0.1:9"
# Another team's entry on every object under the organization's folder, where the trail writes its log
# files: S3 would call ours ambiguous.
CLASHING_ENTRY = "another-team-archive"


COMMANDS = forked_commands.Commands(ENVIRONMENT)


@pytest.fixture(scope="module", autouse=True)
def _commands() -> Iterator[None]:
    yield
    COMMANDS.close()


def run(*argv: str, endpoint: str = NOWHERE, **environment: str | None) -> Ran:
    env = {**ENVIRONMENT, "LOCALAWS_ENDPOINT": endpoint}
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    done = COMMANDS.run(argv[0], list(argv[1:]), env, ROOT)
    assert "Traceback" not in done.out + done.err, done.out + done.err
    return done


def cli(*argv: str, endpoint: str = NOWHERE, **environment: str | None) -> Ran:
    return run("expel_onboarding_cli", *argv, "--endpoint-url", endpoint, endpoint=endpoint, **environment)


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    log = tmp_path / "server.log"
    with log.open("w", encoding="utf-8") as written:
        server = subprocess.Popen(
            [sys.executable, "-m", "localaws", "start"],
            cwd=ROOT,
            env=ENVIRONMENT,
            stdout=subprocess.PIPE,
            stderr=written,
            text=True,
        )
        try:
            assert server.stdout is not None
            found = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
            assert found
            yield found.group(0)
        finally:
            server.terminate()
            server.wait(timeout=10)
    # What the person watching `start` saw: one line per failed request at most, never a traceback or moto's noise.
    said = log.read_text(encoding="utf-8")
    assert "Traceback" not in said, said
    assert "No Moto CloudFormation support" not in said, said


def local(service: str, endpoint: str) -> Any:
    """A client of the local AWS, with the same fake credentials the commands get."""
    session = boto3.Session(
        aws_access_key_id=ENVIRONMENT["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def add_clashing_entry(endpoint: str, bucket: str, organization_id: str) -> None:
    """Another team's topic entry on ObjectCreated under <o-id>/, as a tool outside the stack adds it."""
    client = local("s3", endpoint)
    topic = local("sns", endpoint).create_topic(Name=CLASHING_ENTRY)["TopicArn"]
    config = client.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata", None)
    entry = {
        "Id": CLASHING_ENTRY,
        "TopicArn": topic,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{organization_id}/"}]}},
    }
    config["TopicConfigurations"] = [*config.get("TopicConfigurations", []), entry]
    client.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)


def remove_clashing_entry(endpoint: str, bucket: str) -> None:
    client = local("s3", endpoint)
    config = client.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata", None)
    config["TopicConfigurations"] = [e for e in config["TopicConfigurations"] if e["Id"] != CLASHING_ENTRY]
    client.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)


def test_mistakes_without_a_local_aws_or_a_region() -> None:
    nothing = run("localaws", "seed")
    assert nothing.code != 0
    assert f"nothing answers at {NOWHERE}" in nothing.err
    bare = run("localaws", "seed", "--endpoint-url", "127.0.0.1:9")
    assert bare.code != 0
    assert "has no scheme" in bare.err
    bare_cli = run("expel_onboarding_cli", "check", "--endpoint-url", "127.0.0.1:9")
    assert bare_cli.code == 64
    assert "write it as http://127.0.0.1:9" in bare_cli.err
    for command in ("plan", "check", "outputs"):
        no_region = run(
            "expel_onboarding_cli", command, AWS_DEFAULT_REGION=None, AWS_REGION=None, AWS_CONFIG_FILE="/nonexistent"
        )
        assert no_region.code == 1, command
        assert "pass --region" in no_region.err
        assert "AWS_DEFAULT_REGION" in no_region.err
    no_profile = run("expel_onboarding_cli", "check", "--profile", "nosuch", AWS_CONFIG_FILE="/nonexistent")
    assert no_profile.code == 1
    assert "nosuch" in no_profile.err
    assert "aws configure list-profiles" in no_profile.err
    no_credentials = run(
        "expel_onboarding_cli",
        "plan",
        AWS_ACCESS_KEY_ID=None,
        AWS_SECRET_ACCESS_KEY=None,
        AWS_SESSION_TOKEN=None,
        AWS_PROFILE=None,
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
    )
    assert no_credentials.code == 1
    assert "no AWS credentials found: pass --profile" in no_credentials.err
    nothing_there = cli("outputs")
    assert nothing_there.code == 1
    assert f"nothing answered there. Check --endpoint-url {NOWHERE}" in nothing_there.err
    wrong_output = run("expel_onboarding_cli", "check", "--output", "yaml")
    assert wrong_output.code == 64
    assert "invalid choice: 'yaml'" in wrong_output.err


def test_make_package_without_a_bucket_says_so_before_building() -> None:
    started = time.monotonic()
    make = shutil.which("make")
    assert make, "make is not on PATH"
    done = subprocess.run(  # noqa: S603 - make, as a person types it
        [make, "--no-print-directory", "package"], cwd=ROOT, check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "usage: make package BUCKET=" in done.stderr
    assert "sam build" not in done.stdout + done.stderr
    assert time.monotonic() - started < 30


# Each value the deploy would be refused: plan exits 1 with CloudFormation's own words and the fix.
REFUSED_BY_CLOUDFORMATION = [
    ("WorkbenchExternalId=acme-corp", "Parameter 'WorkbenchExternalId' must be your Workbench organization GUID"),
    ("WorkbenchExternalId=", "Parameter 'WorkbenchExternalId' must be your Workbench organization GUID"),
    ("DriftCheckSchedule=daily", "Parameter 'DriftCheckSchedule' must be a Scheduler expression"),
    ("ExpelPrincipalArn=someone", "Parameter 'ExpelPrincipalArn' must be an IAM user, role or account-root ARN"),
    ("CloudTrailKeyArn=garbage", "Parameter 'CloudTrailKeyArn' must be empty (discover it) or a KMS key ARN"),
]


def test_a_first_hour_on_the_local_aws(endpoint: str) -> None:
    # Values the deploy would be refused, and command lines AWS would not take: said before any stack is made.
    for override, message in REFUSED_BY_CLOUDFORMATION:
        refused = cli("plan", "--parameter-overrides", override, endpoint=endpoint)
        assert refused.code == 1, override
        assert refused.out == ""
        assert f"CloudFormation would refuse the deploy: {message}" in refused.err, refused.err
        assert "To fix it:" in refused.err
    assert local("cloudformation", endpoint).list_stacks()["StackSummaries"] == []

    zone = cli("plan", "--region", "us-east-1a", endpoint=endpoint)
    assert zone.code == 64
    assert "'us-east-1a' is an Availability Zone: pass its region, --region us-east-1" in zone.err
    from_profile = cli("plan", endpoint=endpoint, AWS_DEFAULT_REGION="us-east-1a")
    assert from_profile.code == 1
    assert "--region us-east-1, as AWS_DEFAULT_REGION or your profile gives it" in from_profile.err
    empty = cli("check", "--stack-name", "", endpoint=endpoint)
    assert empty.code == 64
    assert "'' is not a stack name" in empty.err
    before = run(
        "expel_onboarding_cli", "--region", "us-east-1", "--stack-name", "nosuch", "outputs", endpoint=endpoint
    )
    assert before.code == 1
    assert "No stack nosuch" in before.err

    # Before the landing zone: deploy and plan say to seed (or where to deploy); outputs finds no stack.
    early = run("localaws", "deploy", endpoint=endpoint)
    assert early.code != 0
    assert "seed first" in early.err.lower()
    unseeded = cli("plan", endpoint=endpoint)
    assert unseeded.code == 3
    assert "not a member of an AWS Organization" in unseeded.out
    no_stack = cli("outputs", endpoint=endpoint)
    assert no_stack.code == 1
    assert "No stack expel-cloudtrail-onboarding in us-east-1: deploy it first" in no_stack.err

    seeded = run("localaws", "seed", endpoint=endpoint)
    assert seeded.code == 0
    bucket, organization_id = json.loads(seeded.out)["bucket"], json.loads(seeded.out)["organization_id"]
    assert bucket.startswith("aws-controltower-logs-")
    again = run("localaws", "seed", endpoint=endpoint)
    assert again.code != 0
    assert "already seeded" in again.err
    # CloudFormation's ValidationError, whose message is the parameter's ConstraintDescription.
    refused = run("localaws", "deploy", "--parameter-overrides", "WorkbenchExternalId=acme-corp", endpoint=endpoint)
    assert refused.code != 0
    assert (
        "deploy: CloudFormation refused expel-org: Parameter 'WorkbenchExternalId' must be your Workbench"
        in refused.err
    )

    # A prefix that misses Control Tower's layout (log files are under <o-id>/AWSLogs/<o-id>/): plan refuses it,
    # naming the prefix that fits.
    unmatched = cli("plan", "--parameter-overrides", "NotificationPrefix=AWSLogs/", endpoint=endpoint)
    assert unmatched.code == 3
    assert "NotificationPrefixCannotMatch" in unmatched.out
    assert f"set NotificationPrefix={organization_id}/AWSLogs/{organization_id}/" in " ".join(unmatched.out.split())
    typo = cli("plan", "--parameter-overrides", "NotifcationPrefix=AWSLogs/", endpoint=endpoint)
    assert typo.code == 1
    assert "NotificationPrefix" in typo.err

    # A deploy that fails leaves a failed stack: outputs refuses it instead of printing blanks.
    add_clashing_entry(endpoint, bucket, organization_id)
    failed = run("localaws", "deploy", endpoint=endpoint)
    assert failed.code != 0
    assert "NotificationOverlap" in failed.err
    blank = cli("outputs", endpoint=endpoint)
    assert blank.code == 1
    assert blank.out == ""
    # The deploy failed: its whole cause, and the fix, where a person asks (outputs, check).
    assert "The deploy of expel-cloudtrail-onboarding failed (ROLLBACK_COMPLETE)" in blank.err
    assert "NotificationOverlap" in blank.err
    rolled_back = cli("check", endpoint=endpoint)
    assert rolled_back.code == 1
    assert "The deploy of expel-cloudtrail-onboarding failed" in rolled_back.err
    assert "no onboarding state machine" not in rolled_back.err

    # Deploying again after the fix makes the stack anew: a run that really onboarded.
    remove_clashing_entry(endpoint, bucket)
    deployed = run("localaws", "deploy", "--parameter-overrides", "DriftCheckSchedule=rate(2 days)", endpoint=endpoint)
    assert deployed.code == 0, deployed.err
    printed = json.loads(deployed.out)
    assert printed["ManagementAccountId"] == "111111111111"
    # The delegate's ARN, for a person's own deploy's KeyPolicyDelegateArn.
    assert printed["KeyPolicyDelegateArn"].startswith("arn:aws:lambda:us-east-1:111111111111:function:expel-org-")
    assert f"(KeyPolicyDelegateArn): {printed['KeyPolicyDelegateArn']}" in deployed.err
    # An existing stack's plan starts from its own parameters: the delegate is there without an override.
    replanned = cli("plan", endpoint=endpoint)
    assert f"KeyPolicyDelegateArn   {printed['KeyPolicyDelegateArn']}  (stack)" in replanned.out
    # The CLI takes the endpoint from LOCALAWS_ENDPOINT, as python -m localaws does, and options before the verb.
    from_variable = run("expel_onboarding_cli", "--output", "json", "outputs", endpoint=endpoint)
    assert from_variable.code == 0, from_variable.err
    assert f"using {endpoint} (LOCALAWS_ENDPOINT); unset it to reach AWS" in from_variable.err
    assert json.loads(from_variable.out)["ManagementAccountId"] == "111111111111"
    checked = cli("check", "--output", "json", endpoint=endpoint)
    assert checked.code == 0, checked.out
    assert {step["Status"] for step in json.loads(checked.out)["Steps"]} == {"OK"}
    assert cli("outputs", endpoint=endpoint).code == 0

    # Ctrl-C while check follows its run: the run is named, it goes on in AWS, and how to see how it ended.
    following = subprocess.Popen(  # noqa: S603 - the CLI, as a person runs it
        [sys.executable, "-m", "expel_onboarding_cli", "check", "--endpoint-url", endpoint],
        cwd=ROOT,
        env={**ENVIRONMENT, "LOCALAWS_ENDPOINT": endpoint},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert following.stdout is not None
    started = following.stdout.readline()
    assert started.startswith("Running check on expel-cloudtrail-onboarding (check-cli-")
    following.send_signal(signal.SIGINT)
    _, said = following.communicate(timeout=30)
    assert following.returncode == 130
    assert "Traceback" not in said
    name = started.split("(")[1].rstrip(")\n")
    assert f"stopped following {name}. The run goes on in AWS" in said
    assert f"expel-onboarding outputs --endpoint-url {endpoint}" in said
    assert "aws stepfunctions describe-execution --execution-arn arn:aws:states:" in said

    # destroy takes both stacks and everything they made: no state machine, function or role of ours stays.
    deleted = run("localaws", "destroy", endpoint=endpoint)
    assert "deleted expel-cloudtrail-onboarding, expel-org" in deleted.out
    assert local("stepfunctions", endpoint).list_state_machines()["stateMachines"] == []
    assert local("lambda", endpoint).list_functions()["Functions"] == []
    assert "nothing to delete" in run("localaws", "destroy", endpoint=endpoint).out


def test_an_endpoint_that_is_not_aws_is_said_so(not_aws: str) -> None:
    answered = cli("check", endpoint=not_aws)
    assert answered.code == 1
    assert f"the answer at --endpoint-url {not_aws} is not an AWS API's (a web page came back)" in answered.err
    no_scheme = run("expel_onboarding_cli", "check", LOCALAWS_ENDPOINT="127.0.0.1:9")
    assert no_scheme.code == 64
    assert "LOCALAWS_ENDPOINT='127.0.0.1:9' has no scheme: export LOCALAWS_ENDPOINT=http://127.0.0.1:9" in (
        no_scheme.err
    )


@pytest.fixture
def not_aws() -> Iterator[str]:
    """An HTTP server that answers every request with a web page, as a proxy or a wrong URL does."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<!doctype html><html><title>Welcome</title></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
