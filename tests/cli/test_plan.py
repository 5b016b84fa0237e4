"""expel-onboarding plan on a seeded 3.x landing zone: what a deploy would find and change, before it.

The plan runs through the CLI against the local AWS (--endpoint-url), as a person in the Log Archive
account, and with a profile in the management account where it previews the key policy. One local
AWS serves the module; a test that changes the key policy puts it back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from expel_onboarding_cli import cli, sessions
from localaws import clients, deploy, landing_zone, stack_parameters
from localaws.aws_calls import WRITE_PREFIXES
from tests.cli.planning import change, plan, ready, write_management_profile
from tests.support.local_aws import local_aws

# A delegate that is not there: the deploy's KeyPolicy step could not reach it either.
MISSING_DELEGATE = f"arn:aws:lambda:us-east-1:{landing_zone.MANAGEMENT}:function:expel-org-KeyPolicyDelegate"


@dataclass(frozen=True)
class Seeded:
    endpoint: str
    zone: landing_zone.LandingZone
    delegate: str
    management_profile: str


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A 3.x landing zone whose management account runs the org/ stack (the key-policy delegate)."""
    with local_aws() as endpoint, pytest.MonkeyPatch.context() as patch:
        zone = landing_zone.seed("3")
        delegate = stack_parameters.deploy_org(zone)
        credentials = tmp_path_factory.mktemp("aws") / "credentials"
        profile = write_management_profile(credentials)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
        yield Seeded(endpoint, zone, delegate, profile)


@pytest.fixture
def key_policy_restored(seeded: Seeded) -> Iterator[None]:
    yield
    put_key_policy(seeded.zone.cloudtrail_key_arn, json.dumps(landing_zone.CLOUDTRAIL_KEY_POLICY))


def put_key_policy(key_arn: str, policy: str) -> None:
    with landing_zone.as_account(landing_zone.MANAGEMENT):
        clients.kms().put_key_policy(KeyId=key_arn, PolicyName="default", Policy=policy)


def test_our_entry_and_statement_are_added_beside_the_other_teams_and_nothing_blocks(seeded: Seeded) -> None:
    code, printed = plan(seeded.endpoint, *ready(seeded.delegate), "--key-profile", seeded.management_profile)
    assert code == cli.EXIT_OK, printed
    assert f"ManagementAccountId    {landing_zone.MANAGEMENT}" in printed
    assert f"LogBucketName          {seeded.zone.bucket}  (discovered)" in printed
    assert "DeliveryMode           bucket-notification" in printed
    notification = change(printed, "Notification")
    assert notification.startswith("  change   Notification")
    assert '+ {"Id":"ExpelOnboarding(known after deploy)","TopicArn":"(known after deploy)"' in notification
    assert "2 other entries unchanged: audit-deletions, security-lake" in notification
    key = change(printed, "KeyPolicy")
    assert key.startswith(f"  change   KeyPolicy      {seeded.zone.cloudtrail_key_arn}")
    assert f'"aws:PrincipalArn":"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:role/ExpelTrailAssumeRole"' in key
    assert "3 other statements unchanged" in key
    assert "ok       Ownership" in printed
    assert "SqsUrl                 (known after deploy)" in printed


@pytest.fixture
def archive_team_entry(seeded: Seeded) -> Iterator[str]:
    """Another team's entry on every object the trail writes, as an archiving tool adds it; removed after."""
    s3 = clients.s3()
    config = landing_zone.notifications_of(seeded.zone.bucket)
    queue = clients.sqs().create_queue(QueueName="siem-archive")["QueueUrl"]
    arn = clients.sqs().get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    entry = {
        "Id": "siem-archive",
        "QueueArn": arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{seeded.zone.key_prefix}/"}]}},
    }
    s3.put_bucket_notification_configuration(
        Bucket=seeded.zone.bucket,
        NotificationConfiguration={**config, "QueueConfigurations": [*config["QueueConfigurations"], entry]},  # type: ignore[typeddict-item]
    )
    yield "siem-archive"
    s3.put_bucket_notification_configuration(Bucket=seeded.zone.bucket, NotificationConfiguration=config)  # type: ignore[arg-type]


def test_an_overlapping_entry_of_another_team_blocks_and_the_plan_gives_the_fix(
    seeded: Seeded, archive_team_entry: str
) -> None:
    code, printed = plan(seeded.endpoint, *ready(seeded.delegate))
    assert code == cli.EXIT_ACTION_REQUIRED
    notification = change(printed, "Notification")
    assert notification.startswith("  ACTION   Notification")
    assert "NotificationOverlap" in notification
    assert f"'{archive_team_entry}'" in notification
    assert "subscribe to our topic" in notification


def test_a_notification_prefix_no_log_file_falls_under_is_refused_naming_the_one_that_fits(seeded: Seeded) -> None:
    code, printed = plan(seeded.endpoint, *ready(seeded.delegate), "NotificationPrefix=AWSLogs/")
    assert code == cli.EXIT_ACTION_REQUIRED
    refusal = change(printed, "LogTarget")
    assert refusal.startswith("  ACTION   LogTarget")
    assert "NotificationPrefixCannotMatch" in refusal
    org = seeded.zone.organization_id
    assert f"set NotificationPrefix={org}/AWSLogs/{org}/" in " ".join(refusal.split())


def test_an_empty_notification_prefix_is_shown_as_the_folder_the_trail_writes_its_log_files_under(
    seeded: Seeded,
) -> None:
    _, printed = plan(seeded.endpoint, *ready(seeded.delegate))
    org = seeded.zone.organization_id
    assert f"NotificationPrefix     {org}/AWSLogs/{org}/  (discovered)" in printed, printed


def test_without_a_delegate_the_plan_gives_the_statement_and_command_for_the_management_account(
    seeded: Seeded,
) -> None:
    code, printed = plan(seeded.endpoint)
    assert code == cli.EXIT_ACTION_REQUIRED
    key = change(printed, "KeyPolicy")
    assert key.startswith("  ACTION   KeyPolicy")
    assert "no KeyPolicyDelegateArn was given" in key
    assert "aws kms put-key-policy" in key


def test_the_plan_does_not_call_the_delegate_which_only_the_stacks_own_roles_may_call(seeded: Seeded) -> None:
    code, printed = plan(seeded.endpoint, "--parameter-overrides", f"KeyPolicyDelegateArn={MISSING_DELEGATE}")
    assert code == cli.EXIT_OK, printed
    key = " ".join(change(printed, "KeyPolicy").split())
    assert key.startswith("change KeyPolicy")
    assert "Only this stack's KeyPolicy and Verify roles may call it, so the plan does not." in key


def test_without_a_key_profile_the_delegate_says_it_would_add_our_statement(seeded: Seeded) -> None:
    code, printed = plan(seeded.endpoint, *ready(seeded.delegate))
    assert code == cli.EXIT_OK, printed
    key = change(printed, "KeyPolicy")
    assert key.startswith("  change   KeyPolicy")
    assert "adds our statement at deploy" in key
    assert "pass --key-profile" in key


def orphaned(policy: dict[str, Any]) -> str:
    policy["Statement"][2]["Principal"] = {"AWS": "AROAEXAMPLEDELETEDROLE1"}
    return json.dumps(policy)


def repeated_sid(policy: dict[str, Any]) -> str:
    policy["Statement"][2]["Sid"] = policy["Statement"][1]["Sid"]
    return json.dumps(policy)


def too_large(policy: dict[str, Any]) -> str:
    policy["Description"] = "x" * 32_600
    return json.dumps(policy)


@pytest.mark.usefixtures("key_policy_restored")
@pytest.mark.parametrize(
    ("mutate", "refusal", "fix"),
    [
        (orphaned, "OrphanedPrincipals", "replace or remove those principals"),
        (repeated_sid, "KeyPolicyAmbiguous", "give every statement its own Sid"),
        (too_large, "KeyPolicyTooLarge", "shrink the policy"),
    ],
)
def test_a_key_policy_the_deploy_could_not_write_shows_the_refusal_and_its_fix(
    seeded: Seeded, mutate: Callable[[dict[str, Any]], str], refusal: str, fix: str
) -> None:
    put_key_policy(seeded.zone.cloudtrail_key_arn, mutate(json.loads(json.dumps(landing_zone.CLOUDTRAIL_KEY_POLICY))))
    code, printed = plan(seeded.endpoint, *ready(seeded.delegate), "--key-profile", seeded.management_profile)
    assert code == cli.EXIT_ACTION_REQUIRED
    key = change(printed, "KeyPolicy")
    assert key.startswith("  ACTION   KeyPolicy")
    assert refusal in key
    assert fix in key


def test_the_plan_writes_nothing(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    readers_for = sessions.for_plan

    def counting(*arguments: Any) -> Any:
        # Every client of the plan counts its calls, through botocore's own before-call event.
        readers = readers_for(*arguments)
        for client in vars(readers).values():
            if hasattr(client, "meta"):
                client.meta.events.register("before-call", lambda model, **_: made.append(model.name))
        return readers

    monkeypatch.setattr(sessions, "for_plan", counting)
    code, _ = plan(seeded.endpoint, *ready(seeded.delegate), "--key-profile", seeded.management_profile)
    assert code == cli.EXIT_OK
    assert [operation for operation in made if operation.startswith(WRITE_PREFIXES)] == []
    # The delegate takes calls from the stack's own roles only: the plan reads the key policy with --key-profile.
    assert {"DescribeTrails", "GetBucketNotificationConfiguration", "GetKeyPolicy"} <= set(made)
    assert "Invoke" not in made


def test_json_output_has_every_section_and_json_is_its_alias(seeded: Seeded) -> None:
    arguments = [*ready(seeded.delegate), "--key-profile", seeded.management_profile]
    code, printed = plan(seeded.endpoint, *arguments, "--output", "json")
    document = json.loads(printed)
    assert code == cli.EXIT_OK
    assert [change["Name"] for change in document["Changes"]] == ["FeedLoad", "Ownership", "KeyPolicy", "Notification"]
    assert [change["Status"] for change in document["Changes"]] == ["OK", "OK", "CHANGED", "CHANGED"]
    # The management account's profile counts the organization: the load and its monthly cost.
    assert document["Load"]["Sources"]["Accounts"] == "the organization (ListAccounts)"
    assert document["Load"]["MonthlyCostUsd"]["total"] > 0
    assert document["Discovered"]["ManagementAccountId"] == landing_zone.MANAGEMENT
    assert document["ParameterSources"]["LogBucketName"] == "discovered"
    assert document["ActionRequired"] == []
    assert json.loads(plan(seeded.endpoint, *arguments, "--json")[1]) == document


def test_a_parameter_the_template_does_not_have_is_refused_with_the_names_it_has(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed = plan(seeded.endpoint, "--parameter-overrides", "NotifcationPrefix=AWSLogs/")
    assert code == cli.EXIT_FAILED
    assert printed == ""
    assert "NotificationPrefix" in capsys.readouterr().err


def test_after_the_deploy_a_plan_of_the_same_parameters_changes_nothing(seeded: Seeded) -> None:
    # Last in this module: it deploys the stack into the module's landing zone.
    outputs = deploy.deploy(stack_parameters.parameters(seeded.zone, seeded.delegate))
    code, printed = plan(seeded.endpoint, *ready(seeded.delegate), "--key-profile", seeded.management_profile)
    assert code == cli.EXIT_OK, printed
    assert "(updates the existing stack)" in printed
    for name in ("Ownership", "KeyPolicy", "Notification"):
        assert change(printed, name).startswith(f"  ok       {name}")
    assert f"SqsUrl                 {outputs['SqsUrl']}" in printed
    assert re.search(r"OwnedId +ExpelOnboarding[0-9A-F]{12}\n", printed)
    assert "Plan: 0 to change, 0 needing you, 4 unchanged." in printed


def test_on_the_existing_stack_a_plan_starts_from_its_parameters_and_its_delegate(seeded: Seeded) -> None:
    # After the deploy above: no override, yet the plan is the stack's own, delegate included.
    code, printed = plan(seeded.endpoint, "--key-profile", seeded.management_profile)
    assert code == cli.EXIT_OK, printed
    assert f"KeyPolicyDelegateArn   {seeded.delegate}  (stack)" in printed
    assert change(printed, "KeyPolicy").startswith("  ok       KeyPolicy")
    # An override still wins over the stack's value, and is held to the template's constraints.
    code, printed = plan(seeded.endpoint, "--parameter-overrides", "FixObjectOwnership=true")
    assert "FixObjectOwnership     true  (given)" in printed


def test_a_key_arn_that_is_not_the_trails_is_refused_before_the_deploy(seeded: Seeded) -> None:
    other = f"arn:aws:kms:us-east-1:{landing_zone.MANAGEMENT}:key/99999999-12ab-34cd-56ef-1234567890ab"
    code, printed = plan(seeded.endpoint, "--parameter-overrides", f"CloudTrailKeyArn={other}")
    assert code == cli.EXIT_ACTION_REQUIRED
    said = " ".join(change(printed, "Discover").split())
    assert "KeyNotTheTrails" in said
    assert f"set it to {seeded.zone.cloudtrail_key_arn}" in said
