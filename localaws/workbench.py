"""Workbench's side of the feed, as Expel reads it: Expel's principal (an IAM user of Expel's own account)
assumes the Expel role with the Workbench external id, and takes the queue's messages as that role. The
queue's policy lets no other principal take them (template.yaml), so the tests and the demo read as Workbench.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from localaws import clients
from localaws.accounts import REGION, as_account
from localaws.landing_zone import EXPEL_PRINCIPAL, EXTERNAL_ID

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

EXPEL_ACCOUNT = EXPEL_PRINCIPAL.split(":")[4]


def expel_keys() -> tuple[str, str]:
    """Fresh access keys of Expel's principal (made on first use; IAM allows two keys a user, so older ones go)."""
    name = EXPEL_PRINCIPAL.rsplit("/", 1)[-1]
    with as_account(EXPEL_ACCOUNT):
        iam = clients.iam()
        try:
            for old in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=name, AccessKeyId=old["AccessKeyId"])
        except iam.exceptions.NoSuchEntityException:
            iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def sqs(role_arn: str, region: str = REGION) -> SQSClient:
    """SQS as Workbench calls it: signed by a session of the Expel role (role_arn), assumed as Expel does."""
    key_id, secret = expel_keys()
    sts = boto3.client("sts", region_name=region, aws_access_key_id=key_id, aws_secret_access_key=secret)
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="ExpelWorkbench", ExternalId=EXTERNAL_ID)
    session = credentials["Credentials"]
    made: SQSClient = boto3.client(
        "sqs",
        region_name=region,
        aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"],
        aws_session_token=session["SessionToken"],
    )
    return made
