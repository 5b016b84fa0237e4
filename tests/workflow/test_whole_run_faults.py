"""A whole run, on the real ASL, with each write of each step failing in turn, in apply, repair and remove.

The step-level matrix (tests/functional/test_fault_matrix.py) proves one step leaves its own document as it
was. This one proves the run does: a step that fails after an earlier step wrote makes the run undo that
write before it reports. After every run, the bucket's notification configuration and the key policy's
text are exactly as before the run, or the run converged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from expel_onboarding import clients
from localaws import accounts, deployment, landing_zone, stack_resources
from localaws import clients as local_clients
from tests.functional.test_fault_matrix import fault_of
from tests.workflow.conftest import workflow_aws

NO_RETRIES = Config(retries={"total_max_attempts": 1})
# (the product's client, its operation, the IAM action named in a deny)
WRITES = [
    ("kms", "PutKeyPolicy", "kms:PutKeyPolicy"),
    ("s3", "PutBucketNotificationConfiguration", "s3:PutBucketNotification"),
]
FAULTS = ["throttling", "5xx", "409", "explicit deny", "lost response"]
# A 409 and a lost response are one-off; the others last beyond every retry, so the step fails.
ONE_OFF = {"409", "lost response"}
MODES = ["apply", "repair", "remove"]
OURS = "ExpelOnboarding"


@dataclass(frozen=True)
class Deployed:
    zone: landing_zone.LandingZone
    workflow: deployment.Workflow
    seeded: tuple[str, str]  # the two documents as the landing zone has them: nothing of ours
    applied: tuple[str, str]  # after an apply run: ours in both


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    """One local AWS, landing zone and workflow for the whole matrix: seeding and deploying are most of
    a case's cost, and no run changes anything but the two documents, which each case sets (start)."""
    with pytest.MonkeyPatch.context() as monkeypatch, workflow_aws(monkeypatch):
        zone = landing_zone.seed()
        workflow = deployment.deploy(stack_resources.deploy_stack_resources(zone))
        seeded = documents(zone)
        deployment.run(workflow, {"Mode": "apply"})
        applied = documents(zone)
        deployment.run(workflow, {"Mode": "remove"})
        # So "ours, then lost" (repair's drift) is the seeded documents, byte for byte.
        assert documents(zone) == seeded
        yield Deployed(zone, workflow, seeded, applied)


@pytest.fixture(autouse=True)
def aws_environment(deployed: Deployed) -> None:
    """Replaces the workflow tests' local AWS of its own with the module's (deployed)."""


@pytest.fixture
def zone(deployed: Deployed) -> landing_zone.LandingZone:
    return deployed.zone


@pytest.fixture
def workflow(deployed: Deployed) -> deployment.Workflow:
    return deployed.workflow


def start(deployed: Deployed, mode: str) -> None:
    """The state before the faulty run: nothing of ours (apply), ours then lost (repair), ours (remove)."""
    notifications, policy = deployed.applied if mode == "remove" else deployed.seeded
    local_clients.s3().put_bucket_notification_configuration(
        Bucket=deployed.zone.bucket, NotificationConfiguration=json.loads(notifications)
    )
    with accounts.as_account(landing_zone.MANAGEMENT):
        local_clients.kms().put_key_policy(KeyId=deployed.zone.cloudtrail_key_arn, PolicyName="default", Policy=policy)
    assert documents(deployed.zone) == (notifications, policy)


def faulty(monkeypatch: pytest.MonkeyPatch, service: str, operation: str, action: str, kind: str) -> None:
    """Every client the product makes for service fails operation with kind (once, or every time)."""
    left = {"count": 1 if kind in ONE_OFF else 10**6}

    def make(key_arn: str = "") -> Any:
        # clients.kms takes the key's ARN and makes the client in the key's region.
        region = key_arn.split(":")[3] if key_arn else None
        client = boto3.client(service, region_name=region, config=NO_RETRIES)

        def before(**_: Any) -> Any:
            parsed = fault_of(kind, service, action, "the resource")
            if parsed is None or left["count"] <= 0:
                return None
            left["count"] -= 1
            return AWSResponse("https://fault.example", parsed["ResponseMetadata"]["HTTPStatusCode"], {}, None), parsed

        def after(**_: Any) -> None:
            if kind == "lost response" and left["count"] > 0:
                left["count"] -= 1
                raise ReadTimeoutError(endpoint_url="https://fault.example")

        client.meta.events.register(f"before-call.{service}.{operation}", before)
        client.meta.events.register(f"after-call.{service}.{operation}", after)
        return client

    monkeypatch.setattr(clients, service, cache(make))


def key_policy_text(key_arn: str) -> str:
    with accounts.as_account(landing_zone.MANAGEMENT):
        kms = local_clients.kms()
        return str(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])


def documents(zone: landing_zone.LandingZone) -> tuple[str, str]:
    notifications = json.dumps(landing_zone.notifications_of(zone.bucket), sort_keys=True)
    return notifications, key_policy_text(zone.cloudtrail_key_arn)


def ours_in(documents_now: tuple[str, str]) -> tuple[bool, bool]:
    notifications, policy = documents_now
    return f'"Id": "{OURS}' in notifications, f'"Sid": "{OURS}' in policy or f'"Sid":"{OURS}' in policy


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(("service", "operation", "action"), WRITES, ids=[w[1] for w in WRITES])
def test_a_fault_in_any_write_leaves_both_documents_as_they_were_or_converged(
    service: str,
    operation: str,
    action: str,
    fault: str,
    mode: str,
    deployed: Deployed,
    zone: landing_zone.LandingZone,
    workflow: deployment.Workflow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start(deployed, mode)
    before = documents(zone)
    faulty(monkeypatch, service, operation, action, fault)
    description = deployment.run(workflow, {"Mode": mode})
    summary = deployment.summary(description)
    after = documents(zone)

    wanted = (mode != "remove", mode != "remove")
    second_writer = "s3" if mode != "remove" else "kms"
    if service == second_writer and fault in ("throttling", "5xx"):
        # The first writer had written: the run failed and undid it.
        undone = [step for step in summary["Steps"] if step["Name"].startswith("Undo")]
        assert summary["Failed"], summary["Steps"]
        assert [step["Status"] for step in undone] == ["CHANGED"], summary["Steps"]
    if summary["Failed"]:
        # A failed run undid its writes: both documents are byte for byte as they were.
        assert after == before, (summary["FailureCause"], summary["Steps"])
    else:
        for name, now, was, present, want in zip(
            ("notification", "key policy"), after, before, ours_in(after), wanted, strict=True
        ):
            assert now == was or present == want, (name, summary["Steps"])
        if fault in ONE_OFF:
            assert ours_in(after) == wanted, summary["Steps"]


def test_the_whole_run_matrix_covers_every_write_fault_and_mode() -> None:
    # 2 writes x 5 faults x 3 modes: 30 whole runs (KMS has no 409: that run sees no fault and converges).
    assert len(WRITES) * len(FAULTS) * len(MODES) == 30
