"""Every AWS call a run makes, throttled beyond botocore's retries, on the real ASL: the state machine's Retry
takes it, the run converges once the throttle ends, nothing is written twice, and no ACTION_REQUIRED is shown.

Each operation of a run (tests/support/aws_operations.py reads them from the code) is throttled the first
time a run calls it, with a throttling code of its own: every code of botocore's list (and a bare 429) is
met by some run. tests/functional/test_throttle_matrix.py holds every operation x every code to AwsThrottled,
and the relay, the bridge and the CLI to their own retries.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest

from expel_onboarding.workflow import history
from localaws import accounts, clients, deployment, landing_zone, stack_resources, trail_deliveries
from localaws.aws_calls import AwsCalls
from tests.support.aws_operations import NOT_IN_A_RUN, operations_called
from tests.support.throttling import CODES, Throttle
from tests.workflow.conftest import workflow_aws

# The run that makes each operation, from a landing zone of its own (Scenario): "3.x" is a seeded 3.x zone
# with the management account's delegate; "3.x no trail key" one whose trail names no key (discovery reads
# it from the newest log file) and whose bucket's ownership the run fixes; "4.0" the trail-topic mode.
RUNS: dict[str, tuple[str, str]] = {
    "organizations:DescribeOrganization": ("3.x", "apply"),
    "cloudtrail:DescribeTrails": ("3.x", "apply"),
    "s3:GetBucketLocation": ("3.x", "apply"),
    "s3:GetBucketNotificationConfiguration": ("3.x", "apply"),
    "s3:PutBucketNotificationConfiguration": ("3.x", "apply"),
    "s3:GetBucketOwnershipControls": ("3.x", "apply"),
    "lambda:Invoke": ("3.x", "apply"),
    "kms:DescribeKey": ("3.x", "apply"),
    "kms:GetKeyPolicy": ("3.x", "apply"),
    "kms:PutKeyPolicy": ("3.x", "apply"),
    "iam:GetRole": ("3.x", "apply"),
    "iam:SimulatePrincipalPolicy": ("3.x", "apply"),
    "sns:GetSubscriptionAttributes": ("3.x", "apply"),
    "s3:ListObjectsV2": ("3.x no trail key", "apply"),
    "s3:HeadObject": ("3.x no trail key", "apply"),
    "s3:PutBucketOwnershipControls": ("3.x no trail key", "apply"),
    "sns:ListSubscriptionsByTopic": ("4.0", "apply"),
    "sns:Subscribe": ("4.0", "apply"),
    "sns:Unsubscribe": ("4.0", "remove"),
}
# The three throttles first seen failing runs: the delegate's KMS, Lambda's own 429 on the delegate, and
# Organizations in discovery. The other operations take the codes in turn.
CHOSEN = {
    "kms:PutKeyPolicy": "ThrottlingException",
    "lambda:Invoke": "TooManyRequestsException",
    "organizations:DescribeOrganization": "TooManyRequestsException",
}
OTHER_CODES = [code for code in CODES if code not in CHOSEN.values()]
_OTHERS = sorted(set(RUNS) - set(CHOSEN))
CASES = sorted(
    [*CHOSEN.items(), *((operation, OTHER_CODES[index % len(OTHER_CODES)]) for index, operation in enumerate(_OTHERS))],
    key=lambda case: (RUNS[case[0]][0], case[0]),
)


def statuses(summary: dict[str, Any]) -> dict[str, str]:
    return {step["Name"]: step["Status"] for step in summary["Steps"]}


@dataclass
class Scenario:
    """One landing zone and workflow, and what a clean run of each mode does there."""

    name: str
    zone: landing_zone.LandingZone
    workflow: deployment.Workflow
    state: str = "seeded"  # "seeded" (nothing of ours) or "applied"
    clean: dict[str, tuple[dict[str, str], Counter[str]]] = field(default_factory=dict)
    undo_ownership: bool = False

    seeded: tuple[str, str] = ("", "")  # the bucket's notification configuration and the key policy, as seeded

    def before(self, mode: str) -> None:
        """Bring the zone to where a run of mode starts: nothing of ours for apply, ours for remove."""
        wanted = "applied" if mode == "remove" else "seeded"
        if self.state == wanted:
            return
        if wanted == "seeded" and self.name != "4.0":
            # The documents as seeded, put back directly: a remove run would cost a whole run per case.
            notifications, policy = self.seeded
            clients.s3().put_bucket_notification_configuration(
                Bucket=self.zone.bucket, NotificationConfiguration=json.loads(notifications)
            )
            with accounts.as_account(landing_zone.MANAGEMENT):
                clients.kms().put_key_policy(KeyId=self.zone.cloudtrail_key_arn, PolicyName="default", Policy=policy)
            if self.undo_ownership:
                clients.s3().put_bucket_ownership_controls(
                    Bucket=self.zone.bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
                )
            self.state = wanted
        else:
            self.run("apply" if wanted == "applied" else "remove")

    def run(self, mode: str) -> dict[str, Any]:
        description = deployment.run(self.workflow, {"Mode": mode})
        assert description["status"] == "SUCCEEDED", description.get("cause")
        self.state = "seeded" if mode == "remove" else "applied"
        return description

    def measured(self, mode: str) -> tuple[dict[str, str], Counter[str]]:
        """The statuses and the writes of a clean run of mode, from its start."""
        if mode not in self.clean:
            self.before(mode)
            calls = AwsCalls().start()
            summary = deployment.summary(self.run(mode))
            self.clean[mode] = (statuses(summary), Counter(calls.landed_writes))
        return self.clean[mode]


def setting_up(name: str, stack: ExitStack, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    stack.enter_context(workflow_aws(monkeypatch))
    zone = landing_zone.seed("4.0" if name == "4.0" else "3")
    if name == "3.x no trail key":
        # A trail that names no key (AWS does not document that a member's view of the organization trail
        # carries it), a log file of today to read it from, and a bucket whose ownership the run must fix.
        cloudtrail = clients.cloudtrail()
        trail = trail_deliveries.organization_trail(zone)
        cloudtrail.delete_trail(Name=trail["TrailARN"])
        cloudtrail.create_trail(
            Name=trail["Name"],
            S3BucketName=zone.bucket,
            IsMultiRegionTrail=True,
            IsOrganizationTrail=True,
            S3KeyPrefix=str(trail.get("S3KeyPrefix", "")),
        )
        trail_deliveries.deliver_log_file(zone)
        clients.s3().put_bucket_ownership_controls(
            Bucket=zone.bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
    environment = stack_resources.deploy_stack_resources(zone)
    if name == "3.x no trail key":
        environment["FIX_OBJECT_OWNERSHIP"] = "true"
    with accounts.as_account(landing_zone.MANAGEMENT):
        policy = clients.kms().get_key_policy(KeyId=zone.cloudtrail_key_arn, PolicyName="default")["Policy"]
    seeded = (json.dumps(landing_zone.notifications_of(zone.bucket)), policy)
    workflow = deployment.deploy(environment)
    return Scenario(name, zone, workflow, undo_ownership=name == "3.x no trail key", seeded=seeded)


@pytest.fixture(scope="module")
def scenarios() -> Iterator[dict[str, Scenario]]:
    """One scenario at a time (moto's backends are one per process): the cases come sorted by scenario."""
    current: dict[str, Scenario] = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        stack = ExitStack()

        class Switch(dict[str, Scenario]):
            def __missing__(self, name: str) -> Scenario:
                stack.close()
                self.clear()
                self[name] = setting_up(name, stack, monkeypatch)
                return self[name]

        current = Switch()
        try:
            yield current
        finally:
            stack.close()


@pytest.fixture(autouse=True)
def aws_environment() -> None:
    """Replaces the workflow tests' local AWS of their own with the scenarios' (see scenarios)."""


@pytest.mark.parametrize(("operation", "code"), CASES, ids=[f"{op}-{code}" for op, code in CASES])
def test_a_throttle_on_any_call_of_a_run_is_retried_and_the_run_converges(
    operation: str, code: str, scenarios: dict[str, Scenario]
) -> None:
    scenario = scenarios[RUNS[operation][0]]
    mode = RUNS[operation][1]
    clean_statuses, clean_writes = scenario.measured(mode)
    scenario.before(mode)
    calls = AwsCalls().start()
    # Lambda's 429 on the product's call of the delegate, not on the interpreter's own calls of the step functions.
    only = stack_resources.DELEGATE_NAME if operation == "lambda:Invoke" else ""
    throttle = Throttle(operation, code, only=only).arm()

    description = deployment.run(scenario.workflow, {"Mode": mode})

    assert throttle.met == 1, f"no {operation} in a {mode} run on {scenario.name}"
    assert description["status"] == "SUCCEEDED", description.get("cause")
    scenario.state = "seeded" if mode == "remove" else "applied"
    failures = [
        event["lambdaFunctionFailedEventDetails"]
        for event in history(clients.stepfunctions(), description["executionArn"])
        if event["type"] == "LambdaFunctionFailed"
    ]
    # The step failed with AwsThrottled, which the ASL's Retry matches, and its retry converged.
    assert [failure["error"] for failure in failures] == ["AwsThrottled"], failures
    assert operation.split(":")[1] in json.loads(failures[0]["cause"])["errorMessage"]
    summary = deployment.summary(description)
    assert statuses(summary) == clean_statuses
    assert "ACTION_REQUIRED" not in statuses(summary).values()
    # Nothing written twice: the writes that took effect are the clean run's, one for one.
    assert Counter(calls.landed_writes) == clean_writes


def test_the_runs_cover_every_operation_of_the_steps_and_every_throttling_code() -> None:
    # The relay's, the bridge's and the CLI's own calls are held in tests/functional/test_throttle_matrix.py.
    assert set(RUNS) == operations_called() - NOT_IN_A_RUN
    assert {code for _, code in CASES} == set(CODES)
