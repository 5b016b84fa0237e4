"""AssumeRole on the local AWS evaluates the role's trust policy, as STS does: the Expel role admits Expel's
principal with the right ExternalId and refuses everyone else with AWS's AccessDenied."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localaws import clients
from localaws.accounts import LOG_ARCHIVE, as_account
from localaws.landing_zone import EXPEL_PRINCIPAL, EXTERNAL_ID
from localaws.request_headers import on_behalf_of
from localaws.stack_resources import EXPEL_TRUST

EXPEL_ACCOUNT = EXPEL_PRINCIPAL.split(":")[4]
ROLE_NAME = "ExpelTrailAssumeRole"
ROLE_ARN = f"arn:aws:iam::{LOG_ARCHIVE}:role/{ROLE_NAME}"


def role(trust: dict[str, Any], name: str = ROLE_NAME) -> str:
    iam = clients.iam()
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def expel_keys() -> dict[str, str]:
    """Access keys of Expel's principal (ExpelCloudService, an IAM user of Expel's account)."""
    name = EXPEL_PRINCIPAL.rsplit("/", 1)[-1]
    with as_account(EXPEL_ACCOUNT):
        iam = clients.iam()
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def expel_sts(keys: dict[str, str] | None = None) -> Any:
    """STS as Expel's principal calls it (a client made now, so it carries what the caller passes now)."""
    return boto3.client("sts", region_name="us-east-1", **(keys or expel_keys()))


def refused(sts: Any, role_arn: str = ROLE_ARN, **arguments: str) -> str:
    with pytest.raises(ClientError) as denied:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="ExpelCloudTrailServiceSession", **arguments)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    return str(denied.value.response["Error"]["Message"])


def test_expel_with_the_workbench_external_id_assumes_the_expel_role() -> None:
    role(EXPEL_TRUST)
    credentials = expel_sts().assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="ExpelCloudTrailServiceSession", ExternalId=EXTERNAL_ID
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )
    identity = session.client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{LOG_ARCHIVE}:assumed-role/{ROLE_NAME}/ExpelCloudTrailServiceSession"


def test_expel_without_an_external_id_is_refused_with_stss_message() -> None:
    role(EXPEL_TRUST)
    assert refused(expel_sts()) == (
        f"User: {EXPEL_PRINCIPAL} is not authorized to perform: sts:AssumeRole on resource: {ROLE_ARN}"
    )


def test_expel_with_another_external_id_is_refused() -> None:
    role(EXPEL_TRUST)
    assert EXPEL_PRINCIPAL in refused(expel_sts(), ExternalId="00000000-0000-0000-0000-000000000000")


def test_a_principal_the_trust_policy_does_not_name_is_refused_even_with_the_external_id() -> None:
    role(EXPEL_TRUST)
    caller = f"arn:aws:iam::{LOG_ARCHIVE}:root"
    assert refused(clients.sts(), ExternalId=EXTERNAL_ID).startswith(f"User: {caller} is not authorized")


def test_a_role_that_does_not_exist_is_refused() -> None:
    assert "is not authorized to perform: sts:AssumeRole" in refused(expel_sts(), ExternalId=EXTERNAL_ID)


def test_an_account_principal_trusts_every_principal_of_that_account() -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXPEL_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role(trust)
    assert expel_sts().assume_role(RoleArn=ROLE_ARN, RoleSessionName="session")["Credentials"]["AccessKeyId"]


def test_an_explicit_deny_in_the_trust_policy_wins_over_an_allow() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": EXPEL_PRINCIPAL},
        "Action": "sts:*",
        "Condition": {"StringLike": {"sts:ExternalId": "3f2b6c1e-*"}},
    }
    role({**EXPEL_TRUST, "Statement": [*EXPEL_TRUST["Statement"], deny]})
    assert EXPEL_PRINCIPAL in refused(expel_sts(), ExternalId=EXTERNAL_ID)


def test_source_arn_and_account_conditions_hold_only_when_the_caller_passes_matching_ones() -> None:
    schedule_group = f"arn:aws:scheduler:us-east-1:{LOG_ARCHIVE}:schedule-group/default"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": EXPEL_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"arn:aws:scheduler:*:{LOG_ARCHIVE}:schedule-group/*"},
                    "StringEquals": {"aws:SourceAccount": LOG_ARCHIVE},
                },
            }
        ],
    }
    role(trust)
    keys = expel_keys()
    refused(expel_sts(keys))
    with on_behalf_of(f"arn:aws:scheduler:us-east-1:{EXPEL_ACCOUNT}:schedule-group/default", EXPEL_ACCOUNT):
        refused(expel_sts(keys))
    with on_behalf_of(schedule_group, LOG_ARCHIVE):
        granted = expel_sts(keys).assume_role(RoleArn=ROLE_ARN, RoleSessionName="session")
    assert granted["Credentials"]["AccessKeyId"]
