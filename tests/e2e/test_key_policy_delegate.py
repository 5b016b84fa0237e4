"""The management account's key-policy delegate, deployed from org/management.yaml as the management
account on the local AWS, called from the Log Archive account as the onboarding's functions call it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from expel_onboarding import clients, key_policy
from expel_onboarding.key_policy import delegated as remote
from expel_onboarding.naming import OWNED_PREFIX, delegate_reader_arn, key_statement_sid, owned_id
from expel_onboarding.reports import Mode, Status
from localaws import clients as local_clients
from localaws import landing_zone, stack_parameters
from localaws.accounts import AUDIT, MANAGEMENT, as_account
from tests.support.local_aws import local_aws

STACK_ID = (
    f"arn:aws:cloudformation:{landing_zone.REGION}:{landing_zone.LOG_ARCHIVE}:stack/expel-onboarding/"
    "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)


@dataclass
class Delegated:
    zone: landing_zone.LandingZone
    delegate_arn: str
    target: key_policy.Target


def role_session(name: str, path: str) -> dict[str, str]:
    """Credentials of a Log Archive role (made here, trusting the account), as its functions would get them."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = local_clients.iam().create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust))
    credentials = local_clients.sts().assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName=name)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


@pytest.fixture(scope="module")
def delegated() -> Iterator[Delegated]:
    with local_aws(), pytest.MonkeyPatch.context() as patch:
        zone = landing_zone.seed()
        delegate_arn = stack_parameters.deploy_org(zone)
        # The KeyPolicy step's role, under the path the onboarding template gives it and the delegate's policy names.
        for name, value in role_session("expel-KeyPolicyFunctionRole", "/expel-onboarding/key-policy/").items():
            patch.setenv(name, value)
        boto3.setup_default_session()  # the product's clients sign with the role's session from here on
        role_arn = f"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:role/ExpelTrailAssumeRole"
        target = key_policy.Target(
            zone.cloudtrail_key_arn,
            key_statement_sid(role_arn, zone.cloudtrail_key_arn),
            landing_zone.LOG_ARCHIVE,
            role_arn,
            landing_zone.REGION,
            stack_id=STACK_ID,
        )
        yield Delegated(zone, delegate_arn, target)
    boto3.setup_default_session()


def step(delegated: Delegated, mode: Mode) -> Any:
    """The KeyPolicy step's remote path, from the Log Archive account, through Lambda."""
    clients.reset()
    return remote.run(
        delegated.target,
        mode,
        delegate_arn=delegated.delegate_arn,
        local_kms=partial(clients.kms, delegated.target.key_arn),
        invoke=clients.invoke,
    )


def ask(delegated: Delegated, through: str = "", **changes: Any) -> tuple[Any, str]:
    """A request made by hand from the Log Archive account: ours, with some fields changed, to the delegate's
    own ARN or another (its read-only alias)."""
    request = {
        "Operation": "apply",
        "KeyArn": delegated.target.key_arn,
        "Sid": delegated.target.sid,
        "ExpelRoleArn": delegated.target.expel_role_arn,
        "Region": landing_zone.REGION,
        "StackId": STACK_ID,
        **changes,
    }
    clients.reset()
    return clients.invoke(through or delegated.delegate_arn, request)


def test_the_statement_is_added_checked_and_removed_through_the_delegate(delegated: Delegated) -> None:
    before = landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn)
    assert step(delegated, Mode.APPLY).status is Status.CHANGED
    policy = landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn)
    assert policy["Statement"] == [*before["Statement"], key_policy.our_statement(delegated.target)]
    assert step(delegated, Mode.CHECK).status is Status.OK
    answer, error = ask(delegated, Operation="read")
    assert error == ""
    assert answer["Statement"] == key_policy.our_statement(delegated.target)
    assert step(delegated, Mode.REMOVE).status is Status.CHANGED
    assert landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn) == before
    assert step(delegated, Mode.CHECK).status is Status.DRIFTED


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        (
            {"KeyArn": f"arn:aws:kms:us-east-1:{landing_zone.MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
            "the key",
        ),
        ({"ExpelRoleArn": f"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:role/Attacker"}, "the principal"),
        ({"ExpelRoleArn": "*"}, "the principal"),
        ({"Sid": "Enable IAM User Permissions", "Operation": "remove"}, "is not ours"),
        ({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*"}}, "does not take: Statement"),
        ({"Operation": "put-key-policy"}, "is not one of apply, remove, read"),
    ],
    ids=[
        "another-key",
        "another-role",
        "any-principal",
        "a-statement-not-ours",
        "a-statement-of-its-own",
        "unknown-op",
    ],
)
def test_a_hostile_request_is_refused_and_the_key_policy_stays_unchanged(
    delegated: Delegated, changes: dict[str, Any], refusal: str
) -> None:
    before = landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn)
    answer, error = ask(delegated, **changes)
    assert error  # a function error: Lambda says Unhandled (moto: Handled)
    assert answer["errorType"] == "DelegateRefused"
    assert refusal in answer["errorMessage"]
    assert landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn) == before


def test_another_account_may_not_invoke_the_delegate(delegated: Delegated) -> None:
    # The resource-based policy names the Log Archive account only. (moto never reads it; the local
    # AWS's cross-account invoke does, for the account: localaws.lambda_runtime._invoke_across_accounts.)
    before = landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn)
    with as_account(AUDIT):
        lambda_client = local_clients.lambda_()
        with pytest.raises(ClientError, match="AccessDeniedException"):
            lambda_client.invoke(FunctionName=delegated.delegate_arn, Payload=b"{}")
    assert landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn) == before


def test_the_delegates_resource_policy_allows_only_the_log_archive_account(delegated: Delegated) -> None:
    with as_account(MANAGEMENT):
        policy = local_clients.lambda_().get_policy(FunctionName=delegated.delegate_arn)["Policy"]
    assert landing_zone.LOG_ARCHIVE in policy
    assert AUDIT not in policy
    assert "lambda:InvokeFunction" in policy


def test_another_log_archive_role_may_not_call_the_delegate(
    delegated: Delegated, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = role_session("another-team", "/")
    before = landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn)
    with monkeypatch.context() as patch:
        for name, value in keys.items():
            patch.setenv(name, value)
        boto3.setup_default_session()
        with pytest.raises(ClientError) as refused:
            ask(delegated)
    boto3.setup_default_session()
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "role/another-team" in refused.value.response["Error"]["Message"] or "another-team" in str(refused.value)
    assert landing_zone.key_policy_of(delegated.zone.cloudtrail_key_arn) == before


@contextmanager
def signed_in_as(name: str, path: str) -> Iterator[None]:
    """The product's clients sign as this Log Archive role (made on first use), then as the KeyPolicy role again."""
    try:
        local_clients.iam().get_role(RoleName=name)
        keys = role_session(f"{name}-again", path)
    except ClientError:
        keys = role_session(name, path)
    with pytest.MonkeyPatch.context() as patch:
        saved = {key: os.environ[key] for key in keys}
        for key, value in keys.items():
            patch.setenv(key, value)
        boto3.setup_default_session()
        clients.reset()
        try:
            yield
        finally:
            for key, value in saved.items():
                patch.setenv(key, value)
            boto3.setup_default_session()
            clients.reset()


VERIFY_ROLE = ("expel-VerifyFunctionRole", "/expel-onboarding/verify/")


def test_verify_reads_through_the_read_only_alias_and_can_do_nothing_else(delegated: Delegated) -> None:
    original = landing_zone.key_policy_text_of(delegated.zone.cloudtrail_key_arn)
    assert step(delegated, Mode.APPLY).status is Status.CHANGED
    before = landing_zone.key_policy_text_of(delegated.zone.cloudtrail_key_arn)
    reader = delegate_reader_arn(delegated.delegate_arn)
    with signed_in_as(*VERIFY_ROLE):
        # Verify's own check, as its handler builds it: through the alias, and OK.
        local_kms = partial(clients.kms, delegated.target.key_arn)
        check = remote.checker(delegated.target, delegated.delegate_arn, local_kms, clients.invoke)
        assert check is not None
        assert check().status is Status.OK
        # The function's own ARN does not admit Verify's role (its policy names the KeyPolicy path only).
        with pytest.raises(ClientError) as refused:
            ask(delegated, Operation="read")
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        # Through the alias, the delegate answers reads only: every write and preflight is refused.
        for operation in ("apply", "remove", "plan-apply", "plan-remove"):
            answer, error = ask(delegated, Operation=operation, through=reader)
            assert error, operation
            assert answer["errorType"] == "DelegateRefused"
            assert "may only read" in answer["errorMessage"]
    assert landing_zone.key_policy_text_of(delegated.zone.cloudtrail_key_arn) == before
    assert step(delegated, Mode.REMOVE).status is Status.CHANGED
    assert landing_zone.key_policy_text_of(delegated.zone.cloudtrail_key_arn) == original


def test_the_key_policy_role_may_not_use_verifys_door(delegated: Delegated) -> None:
    with pytest.raises(ClientError) as refused:
        ask(delegated, Operation="read", through=delegate_reader_arn(delegated.delegate_arn))
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert ":reader" in refused.value.response["Error"]["Message"]


def test_a_hundred_calls_with_invented_stacks_leave_one_statement_and_the_bytes_of_the_first(
    delegated: Delegated,
) -> None:
    def invented(number: int) -> str:
        return STACK_ID.replace("0a1b2c3d-4e5f-6789-abcd-ef0123456789", str(uuid.UUID(int=number)))

    key = delegated.zone.cloudtrail_key_arn
    before = landing_zone.key_policy_text_of(key)
    first, _ = ask(delegated, StackId=invented(0))
    assert first["Report"]["Status"] == "CHANGED"
    after_first = landing_zone.key_policy_text_of(key)
    refused = 0
    for number in range(1, 100):
        # Half name the Sid their invented stack would have given, half the delegate's own.
        sid = owned_id(invented(number)) if number % 2 else delegated.target.sid
        answer, error = ask(delegated, StackId=invented(number), Sid=sid)
        if error:
            assert answer["errorType"] == "DelegateRefused"
            refused += 1
        else:
            assert answer["Report"]["Status"] == "OK"
    assert refused == 50
    assert landing_zone.key_policy_text_of(key) == after_first
    sids = [s.get("Sid", "") for s in landing_zone.key_policy_of(key)["Statement"]]
    assert [sid for sid in sids if sid.startswith(OWNED_PREFIX)] == [delegated.target.sid]
    assert step(delegated, Mode.REMOVE).status is Status.CHANGED
    assert landing_zone.key_policy_text_of(key) == before


def test_a_statement_under_the_sid_a_stack_id_once_gave_is_renamed_in_place_by_the_next_apply(
    delegated: Delegated,
) -> None:
    key = delegated.zone.cloudtrail_key_arn
    before = landing_zone.key_policy_of(key)
    former = {**key_policy.our_statement(delegated.target), "Sid": owned_id(STACK_ID)}
    with as_account(MANAGEMENT):
        kms = local_clients.kms()
        kms.put_key_policy(
            KeyId=key, PolicyName="default", Policy=json.dumps({**before, "Statement": [*before["Statement"], former]})
        )
    assert step(delegated, Mode.CHECK).status is Status.DRIFTED
    report = step(delegated, Mode.APPLY)
    assert report.status is Status.CHANGED
    assert report.undo is None  # the grant was there before the run: a rollback must not take it away
    statements = landing_zone.key_policy_of(key)["Statement"]
    assert statements == [*before["Statement"], key_policy.our_statement(delegated.target)]
    assert step(delegated, Mode.CHECK).status is Status.OK
    assert step(delegated, Mode.REMOVE).status is Status.CHANGED
    assert landing_zone.key_policy_of(key) == before


def test_another_stacks_statement_is_never_taken_for_a_former_one_of_ours(delegated: Delegated) -> None:
    # Another onboarding's grant, for another role, under the Sid its stack id gave: a caller naming that
    # stack cannot make our delegate rename or remove it.
    key = delegated.zone.cloudtrail_key_arn
    other_role = f"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:role/OtherTeamReader"
    theirs = {
        **key_policy.our_statement(replace(delegated.target, expel_role_arn=other_role)),
        "Sid": owned_id(STACK_ID),
    }
    with as_account(MANAGEMENT):
        original = landing_zone.key_policy_of(key)
        local_clients.kms().put_key_policy(
            KeyId=key,
            PolicyName="default",
            Policy=json.dumps({**original, "Statement": [*original["Statement"], theirs]}),
        )
    with_theirs = landing_zone.key_policy_of(key)
    assert step(delegated, Mode.APPLY).status is Status.CHANGED
    assert step(delegated, Mode.REMOVE).status is Status.CHANGED
    assert landing_zone.key_policy_of(key) == with_theirs
    with as_account(MANAGEMENT):
        local_clients.kms().put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(original))
