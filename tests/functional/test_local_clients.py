"""localaws keeps one client per service on a session kept per process: kept clients still act as the
account of the block they are used in, and a changed AWS environment gets a session of its own."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID

from localaws import clients
from localaws.accounts import LOG_ARCHIVE, MANAGEMENT, as_account
from tests.support.cfn_template import ROOT


def queues() -> list[str]:
    return [url.rsplit("/", 1)[1] for url in clients.sqs().list_queues().get("QueueUrls", [])]


def test_a_client_made_before_a_block_acts_as_the_blocks_account() -> None:
    sqs = clients.sqs()
    sqs.create_queue(QueueName="log-archive-queue")
    with as_account(MANAGEMENT):
        assert clients.sqs() is sqs
        assert queues() == []
        sqs.create_queue(QueueName="management-queue")
        assert queues() == ["management-queue"]
    assert queues() == ["log-archive-queue"]


def test_the_session_and_its_clients_are_kept_until_the_aws_environment_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session, sqs = boto3.DEFAULT_SESSION, clients.sqs()
    clients.keep_default_session()
    assert boto3.DEFAULT_SESSION is session
    assert clients.sqs() is sqs
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "another-secret")
    clients.keep_default_session()
    assert boto3.DEFAULT_SESSION is not session
    assert clients.sqs() is not sqs
    assert clients.sqs().meta.region_name == "us-east-1"


def test_the_log_archive_is_motos_default_account() -> None:
    assert LOG_ARCHIVE == DEFAULT_ACCOUNT_ID


def test_the_client_commands_import_neither_moto_nor_samtranslators_translator() -> None:
    """python -m localaws seed/deploy/destroy start in well under a second: moto and samtranslator's
    translator are the server's and the deploy's to import, when they need them."""
    probe = (
        "import sys; from localaws import __main__, deploy, demo, landing_zone, stack_parameters; "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('moto')} "
        "| {m for m in sys.modules if m.startswith('samtranslator.translator')}))"
    )
    path = os.pathsep.join([str(ROOT / "layers" / "onboarding"), str(ROOT)])
    found = subprocess.run(  # noqa: S603 - our own interpreter, our own modules
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == "[]"
