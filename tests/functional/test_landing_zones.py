"""The two Control Tower landing zone generations the local AWS seeds, and CloudTrail's delivery of a
log file into them."""

from __future__ import annotations

import gzip
import json
import re
from types import SimpleNamespace
from typing import Any

import pytest

from expel_onboarding.delivery import account_of
from localaws import __main__ as localaws_cli
from localaws import clients, control_tower, landing_zone, trail_deliveries
from localaws.accounts import AUDIT, LOG_ARCHIVE, MANAGEMENT, REGION, as_account
from localaws.landing_zone import LandingZone

SCP = "SERVICE_CONTROL_POLICY"


def trail_of(zone: LandingZone) -> dict[str, Any]:
    trails = clients.cloudtrail().describe_trails(includeShadowTrails=True)["trailList"]
    return next(dict(t) for t in trails if t["TrailARN"] == zone.trail_arn)


def scps_on(target: str) -> dict[str, dict[str, Any]]:
    """Name -> document of the SCPs attached to a target, as the management account lists them."""
    with as_account(MANAGEMENT):
        organizations = clients.organizations()
        summaries = organizations.list_policies_for_target(TargetId=target, Filter=SCP)["Policies"]
        return {
            p["Name"]: json.loads(organizations.describe_policy(PolicyId=p["Id"])["Policy"]["Content"])
            for p in summaries
        }


def raw_queue(topic_arn: str) -> str:
    """A queue subscribed with raw delivery, in the topic's account: moto delivers a topic's messages
    only to subscriptions made in the topic's own account."""
    sqs, sns = clients.sqs(), clients.sns()
    queue_url = sqs.create_queue(QueueName="trail-messages")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    return str(queue_url)


def test_a_3x_zone_writes_to_the_logs_bucket_and_publishes_to_the_audit_accounts_config_topic() -> None:
    zone = landing_zone.seed("3")
    assert zone.generation == "3"
    assert zone.bucket == f"aws-controltower-logs-{LOG_ARCHIVE}-{REGION}"
    assert zone.trail_topic_arn == f"arn:aws:sns:{REGION}:{AUDIT}:aws-controltower-AllConfigNotifications"
    trail = trail_of(zone)
    assert trail["S3BucketName"] == zone.bucket
    assert trail["SnsTopicARN"] == zone.trail_topic_arn
    assert trail["KmsKeyId"] == zone.cloudtrail_key_arn
    with as_account(AUDIT):
        assert zone.trail_topic_arn in [t["TopicArn"] for t in clients.sns().list_topics()["Topics"]]


def test_a_3x_zone_has_no_scp_but_aws_full_access() -> None:
    zone = landing_zone.seed("3")
    assert list(scps_on(LOG_ARCHIVE)) == ["FullAWSAccess"]
    rules = clients.s3().get_bucket_ownership_controls(Bucket=zone.bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]


def test_a_4_0_zone_writes_to_a_new_cloudtrail_bucket_and_publishes_to_its_own_topic_in_the_log_archive() -> None:
    zone = landing_zone.seed("4.0")
    assert zone.generation == "4.0"
    assert re.fullmatch(rf"aws-controltower-cloudtrail-logs-{LOG_ARCHIVE}-[0-9a-f]{{8}}", zone.bucket)
    assert zone.bucket == control_tower.log_bucket("4.0")  # a fixed suffix, not a random one
    assert zone.trail_topic_arn == (
        f"arn:aws:sns:{REGION}:{LOG_ARCHIVE}:aws-controltower-CentralizedLoggingNotifications"
    )
    trail = trail_of(zone)
    assert trail["S3BucketName"] == zone.bucket
    assert trail["SnsTopicARN"] == zone.trail_topic_arn
    rules = clients.s3().get_bucket_ownership_controls(Bucket=zone.bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_a_4_0_zone_attaches_ct_s3_pv_8_and_ct_sns_pv_1_to_the_log_archive_only() -> None:
    landing_zone.seed("4.0")
    assert scps_on(LOG_ARCHIVE) == {
        "FullAWSAccess": scps_on(LOG_ARCHIVE)["FullAWSAccess"],
        "aws-guardrails-CTS3PV8": control_tower.CT_S3_PV_8,
        "aws-guardrails-CTSNSPV1": control_tower.CT_SNS_PV_1,
    }
    assert list(scps_on(AUDIT)) == ["FullAWSAccess"]
    with as_account(MANAGEMENT):
        root = clients.organizations().list_roots()["Roots"][0]
    assert {"Type": SCP, "Status": "ENABLED"} in root["PolicyTypes"]


@pytest.mark.parametrize("generation", ["3", "4.0"])
def test_both_generations_have_the_organization_the_key_and_the_other_teams_entries(generation: str) -> None:
    zone = landing_zone.seed(generation)
    with as_account(MANAGEMENT):
        accounts = {a["Id"]: a["Name"] for a in clients.organizations().list_accounts()["Accounts"]}
    assert accounts[LOG_ARCHIVE] == "Log Archive"
    assert accounts[AUDIT] == "Audit"
    assert [e["Id"] for e in zone.foreign_notifications["QueueConfigurations"]] == ["security-lake"]
    assert [e["Id"] for e in zone.foreign_notifications["TopicConfigurations"]] == ["audit-deletions"]
    assert zone.foreign_key_policy == control_tower.CLOUDTRAIL_KEY_POLICY
    assert zone.cloudtrail_key_arn.split(":")[4] == MANAGEMENT


def test_an_unknown_generation_is_refused() -> None:
    with pytest.raises(ValueError, match=r"3, 4\.0"):
        landing_zone.seed("5")


@pytest.mark.parametrize("generation", ["3", "4.0"])
def test_a_delivered_log_file_lands_in_the_bucket_and_its_message_on_the_trail_topic(generation: str) -> None:
    zone = landing_zone.seed(generation)
    with as_account(account_of(zone.trail_topic_arn)):
        queue_url = raw_queue(zone.trail_topic_arn)

    key = trail_deliveries.deliver_log_file(zone)

    # Control Tower's layout: the trail's S3KeyPrefix is the organization id, and an organization trail adds it again.
    org = zone.organization_id
    prefix = rf"{org}/AWSLogs/{org}/{MANAGEMENT}/CloudTrail/{REGION}/\d{{4}}/\d{{2}}/\d{{2}}/"
    name = rf"{MANAGEMENT}_CloudTrail_{REGION}_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz"
    assert re.fullmatch(prefix + name, key)
    s3 = clients.s3()
    body = json.loads(gzip.decompress(s3.get_object(Bucket=zone.bucket, Key=key)["Body"].read()))
    assert body["Records"][0]["eventSource"] == "iam.amazonaws.com"
    assert s3.head_object(Bucket=zone.bucket, Key=key)["SSEKMSKeyId"] == zone.cloudtrail_key_arn
    with as_account(account_of(zone.trail_topic_arn)):
        messages = clients.sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == [f'{{"s3Bucket":"{zone.bucket}","s3ObjectKey":["{key}"]}}']


@pytest.mark.parametrize("generation", ["3", "4.0"])
def test_the_organization_trail_writes_under_the_organization_id_as_control_tower_sets_it(generation: str) -> None:
    zone = landing_zone.seed(generation)
    assert zone.organization_id.startswith("o-")
    assert trail_deliveries.organization_trail(zone)["S3KeyPrefix"] == zone.organization_id == zone.key_prefix


def test_a_digest_lands_beside_the_log_files_and_is_not_announced_on_the_trail_topic() -> None:
    zone = landing_zone.seed("4.0")
    queue_url = raw_queue(zone.trail_topic_arn)
    key = trail_deliveries.deliver_digest_file(zone)
    org = zone.organization_id
    trail = "aws-controltower-BaselineCloudTrail"
    name = rf"{MANAGEMENT}_CloudTrail-Digest_{REGION}_{trail}_{REGION}_\d{{8}}T\d{{6}}Z\.json\.gz"
    assert re.fullmatch(
        rf"{org}/AWSLogs/{org}/{MANAGEMENT}/CloudTrail-Digest/{REGION}/\d{{4}}/\d{{2}}/\d{{2}}/{name}", key
    )
    assert clients.s3().head_object(Bucket=zone.bucket, Key=key)["ContentLength"] > 0
    assert clients.sqs().receive_message(QueueUrl=queue_url).get("Messages", []) == []


def test_up_to_3x_config_writes_into_the_trail_bucket_per_account_and_announces_on_the_shared_topic() -> None:
    zone = landing_zone.seed("3")
    with as_account(account_of(zone.trail_topic_arn)):
        queue_url = raw_queue(zone.trail_topic_arn)
    bucket, key = trail_deliveries.deliver_config_object(zone)
    assert bucket == zone.bucket
    assert key.startswith(f"{zone.organization_id}/AWSLogs/{MANAGEMENT}/Config/{REGION}/")
    with as_account(account_of(zone.trail_topic_arn)):
        (message,) = clients.sqs().receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(message["Body"])["s3ObjectKey"] == key


def test_from_4_0_config_has_a_bucket_of_its_own() -> None:
    zone = landing_zone.seed("4.0")
    bucket, _ = trail_deliveries.deliver_config_object(zone)
    assert bucket == zone.config_bucket != zone.bucket
    assert bucket.startswith(f"aws-controltower-config-logs-{AUDIT}-{REGION}-")
    in_log_bucket = [item["Key"] for item in clients.s3().list_objects_v2(Bucket=zone.bucket).get("Contents", [])]
    assert [key for key in in_log_bucket if "/Config/" in key] == []


def test_a_log_file_can_be_delivered_under_a_given_key() -> None:
    zone = landing_zone.seed("4.0")
    key = f"AWSLogs/{zone.organization_id}/{MANAGEMENT}/CloudTrail/{REGION}/2026/01/02/given.json.gz"
    assert trail_deliveries.deliver_log_file(zone, key) == key
    assert clients.s3().head_object(Bucket=zone.bucket, Key=key)["ContentLength"] > 0


def test_the_seed_command_passes_its_landing_zone_generation_through(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, "unchanged")  # main() points the environment at the endpoint; undone after
    seeded: list[str] = []
    monkeypatch.setattr(landing_zone, "seed", lambda generation: seeded.append(generation) or SimpleNamespace())

    assert localaws_cli.main(["seed", "--endpoint-url", "http://127.0.0.1:1", "--landing-zone", "4.0"]) == 0
    assert localaws_cli.main(["seed", "--endpoint-url", "http://127.0.0.1:1"]) == 0
    assert seeded == ["4.0", "3"]
    capsys.readouterr()
