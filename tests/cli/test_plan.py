"""expel-onboarding plan on a seeded local landing zone: what a deploy would find and change, before it.

The plan runs through the CLI against the local AWS (--endpoint-url), as a person in the Log Archive
account, and through a profile in the management account where it previews the key policy.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from expel_onboarding import cli
from localaws import landing_zone
from tests.support.aws_calls import WRITE_PREFIXES
from tests.support.local_aws import local_aws

DELEGATE = f"arn:aws:lambda:us-east-1:{landing_zone.MANAGEMENT}:function:expel-org-KeyPolicyDelegate"
# What a deploy that can run unattended passes: CloudTrail writes under AWSLogs/, the security-lake
# team's entry is under reports/, and the org/ stack's delegate edits the key policy.
READY = ["--parameter-overrides", "NotificationPrefix=AWSLogs/", f"KeyPolicyDelegateArn={DELEGATE}"]


@pytest.fixture
def endpoint() -> Iterator[str]:
    with local_aws() as url:
        yield url


@pytest.fixture
def management_profile(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A profile whose credentials act in the management account, as an administrator there would have."""
    role = f"arn:aws:iam::{landing_zone.MANAGEMENT}:role/OrganizationAccountAccessRole"
    credentials = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="plan")["Credentials"]
    path = tmp_path / "credentials"
    path.write_text(
        "[management]\n"
        f"aws_access_key_id = {credentials['AccessKeyId']}\n"
        f"aws_secret_access_key = {credentials['SecretAccessKey']}\n"
        f"aws_session_token = {credentials['SessionToken']}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    return "management"


def plan(endpoint: str, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(["plan", "--region", "us-east-1", "--endpoint-url", endpoint, *argv], out=out)
    return code, out.getvalue()


def change(printed: str, name: str) -> str:
    """The lines of one change in the table: its mark line and everything indented under it."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line[11:].startswith(f"{name} "))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * 25):
            break
        block.append(line)
    return "\n".join(block)


def put_key_policy(key_arn: str, policy: str) -> None:
    with landing_zone.as_account(landing_zone.MANAGEMENT):
        boto3.client("kms").put_key_policy(KeyId=key_arn, PolicyName="default", Policy=policy)


def test_on_3x_our_entry_and_statement_are_added_beside_the_other_teams_and_nothing_blocks(
    endpoint: str, management_profile: str
) -> None:
    zone = landing_zone.seed("3")
    code, printed = plan(endpoint, *READY, "--key-profile", management_profile)
    assert code == cli.EXIT_OK, printed
    assert f"ManagementAccountId    {landing_zone.MANAGEMENT}" in printed
    assert f"LogBucketName          {zone.bucket}  (discovered)" in printed
    assert "DeliveryMode           bucket-notification" in printed
    notification = change(printed, "Notification")
    assert notification.startswith("  change   Notification")
    assert '+ {"Id":"ExpelOnboarding(known after deploy)","TopicArn":"(known after deploy)"' in notification
    assert "2 other entries unchanged: audit-deletions, security-lake" in notification
    key = change(printed, "KeyPolicy")
    assert key.startswith(f"  change   KeyPolicy      {zone.cloudtrail_key_arn}")
    assert f'"aws:PrincipalArn":"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:role/ExpelTrailAssumeRole"' in key
    assert "3 other statements unchanged" in key
    assert "ok       Ownership" in printed
    assert "SqsUrl                 (known after deploy)" in printed


def test_on_4_0_the_relay_subscribes_to_the_trails_topic_and_the_bucket_is_not_written(
    endpoint: str, management_profile: str
) -> None:
    zone = landing_zone.seed("4.0")
    code, printed = plan(endpoint, *READY, "--key-profile", management_profile)
    assert code == cli.EXIT_OK, printed
    assert "DeliveryMode           trail-topic" in printed
    notification = change(printed, "Notification")
    assert notification.startswith(f"  change   Notification   {zone.trail_topic_arn}")
    assert "notification configuration is not written" in notification


def test_an_overlapping_entry_of_another_team_blocks_and_the_plan_gives_the_fix(endpoint: str) -> None:
    landing_zone.seed("3")
    code, printed = plan(endpoint, "--parameter-overrides", f"KeyPolicyDelegateArn={DELEGATE}")
    assert code == cli.EXIT_ACTION_REQUIRED
    notification = change(printed, "Notification")
    assert notification.startswith("  ACTION   Notification")
    assert "NotificationOverlap" in notification
    assert "'security-lake'" in notification
    assert "set the NotificationPrefix parameter" in notification


def test_without_a_delegate_the_plan_gives_the_statement_and_command_for_the_management_account(
    endpoint: str,
) -> None:
    landing_zone.seed("3")
    code, printed = plan(endpoint, "--parameter-overrides", "NotificationPrefix=AWSLogs/")
    assert code == cli.EXIT_ACTION_REQUIRED
    key = change(printed, "KeyPolicy")
    assert key.startswith("  ACTION   KeyPolicy")
    assert "no KeyPolicyDelegateArn was given" in key
    assert "aws kms put-key-policy" in key


def orphaned(policy: dict[str, Any]) -> str:
    policy["Statement"][2]["Principal"] = {"AWS": "AROAEXAMPLEDELETEDROLE1"}
    return json.dumps(policy)


def repeated_sid(policy: dict[str, Any]) -> str:
    policy["Statement"][2]["Sid"] = policy["Statement"][1]["Sid"]
    return json.dumps(policy)


def too_large(policy: dict[str, Any]) -> str:
    policy["Description"] = "x" * 32_600
    return json.dumps(policy)


@pytest.mark.parametrize(
    ("mutate", "refusal", "fix"),
    [
        (orphaned, "OrphanedPrincipals", "replace or remove those principals"),
        (repeated_sid, "KeyPolicyAmbiguous", "give every statement its own Sid"),
        (too_large, "KeyPolicyTooLarge", "shrink the policy"),
    ],
)
def test_a_key_policy_the_deploy_could_not_write_shows_the_refusal_and_its_fix(
    endpoint: str, management_profile: str, mutate: Callable[[dict[str, Any]], str], refusal: str, fix: str
) -> None:
    zone = landing_zone.seed("3")
    put_key_policy(zone.cloudtrail_key_arn, mutate(json.loads(json.dumps(landing_zone.CLOUDTRAIL_KEY_POLICY))))
    code, printed = plan(endpoint, *READY, "--key-profile", management_profile)
    assert code == cli.EXIT_ACTION_REQUIRED
    key = change(printed, "KeyPolicy")
    assert key.startswith("  ACTION   KeyPolicy")
    assert refusal in key
    assert fix in key


def test_the_plan_writes_nothing(endpoint: str, management_profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    landing_zone.seed("3")
    made: list[str] = []
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation: str, parameters: dict[str, Any]) -> Any:
        made.append(operation)
        return original(self, operation, parameters)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    code, _ = plan(endpoint, *READY, "--key-profile", management_profile)
    assert code == cli.EXIT_OK
    assert [operation for operation in made if operation.startswith(WRITE_PREFIXES)] == []
    assert {"DescribeTrails", "GetBucketNotificationConfiguration", "GetKeyPolicy"} <= set(made)


def test_json_output_has_every_section_and_json_is_its_alias(endpoint: str, management_profile: str) -> None:
    landing_zone.seed("3")
    code, printed = plan(endpoint, *READY, "--key-profile", management_profile, "--output", "json")
    document = json.loads(printed)
    assert code == cli.EXIT_OK
    assert [change["Name"] for change in document["Changes"]] == ["Ownership", "KeyPolicy", "Notification"]
    assert [change["Status"] for change in document["Changes"]] == ["OK", "CHANGED", "CHANGED"]
    assert document["Discovered"]["ManagementAccountId"] == landing_zone.MANAGEMENT
    assert document["ParameterSources"]["LogBucketName"] == "discovered"
    assert document["ActionRequired"] == []
    alias = json.loads(plan(endpoint, *READY, "--key-profile", management_profile, "--json")[1])
    assert alias == document


def test_before_a_landing_zone_exists_the_plan_says_no_trail_is_visible_and_what_to_do(endpoint: str) -> None:
    code, printed = plan(endpoint)
    assert code == cli.EXIT_ACTION_REQUIRED
    assert "No organization trail is visible" in change(printed, "LogTarget")


def test_a_parameter_the_template_does_not_have_is_refused_with_the_names_it_has(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed = plan(endpoint, "--parameter-overrides", "NotifcationPrefix=AWSLogs/")
    assert code == cli.EXIT_FAILED
    assert printed == ""
    assert "NotificationPrefix" in capsys.readouterr().err
