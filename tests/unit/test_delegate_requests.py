"""The management account's delegate takes a request only for the statement our code builds: the key,
role and region of its own stack, a stack of the Log Archive account, and the Sid derived from it."""

from __future__ import annotations

from typing import Any

import pytest

from expel_onboarding import delegate, key_policy
from expel_onboarding.errors import DelegateRefused
from expel_onboarding.key_policy import delegated
from expel_onboarding.naming import delegate_reader_arn, key_statement_sid, owned_id
from expel_onboarding.reports import Mode

KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_ARCHIVE = "222222222222"
ROLE_ARN = f"arn:aws:iam::{LOG_ARCHIVE}:role/ExpelTrailAssumeRole"
STACK_ID = f"arn:aws:cloudformation:eu-west-1:{LOG_ARCHIVE}:stack/expel-onboarding/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
CONFIG = delegate.Config(KEY_ARN, ROLE_ARN, LOG_ARCHIVE, "aws")


def request(**changes: Any) -> dict[str, Any]:
    return {
        "Operation": "apply",
        "KeyArn": KEY_ARN,
        "Sid": key_statement_sid(ROLE_ARN, KEY_ARN),
        "ExpelRoleArn": ROLE_ARN,
        "Region": "eu-west-1",
        "StackId": STACK_ID,
        **changes,
    }


def test_a_request_from_the_log_archive_stack_targets_the_statement_that_stack_builds() -> None:
    parsed = delegate.parse(request(), CONFIG)
    assert parsed.target.sid == key_statement_sid(ROLE_ARN, KEY_ARN)
    assert parsed.target.legacy_sid == owned_id(STACK_ID)
    assert parsed.target.stack_id == STACK_ID
    statement = key_policy.our_statement(parsed.target)
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": ROLE_ARN},
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
        # The delegate's key is in the management account, which owns the organization trail.
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:111111111111:trail/*"},
    }


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"Sid": "ExpelOnboardingA1B2C3D4E5F6"}, "is not this delegate's"),
        ({"Sid": owned_id(STACK_ID)}, "is not this delegate's"),
        ({"StackId": STACK_ID.replace(LOG_ARCHIVE, "333333333333")}, "Log Archive account 222222222222 only"),
        ({"StackId": STACK_ID.replace("arn:aws:", "arn:aws-cn:")}, "Log Archive account 222222222222 only"),
        ({"StackId": "expel-onboarding"}, "Log Archive account 222222222222 only"),
        ({"StackId": None}, "Log Archive account 222222222222 only"),
        ({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*"}}, "does not take: Statement"),
    ],
    ids=[
        "a-sid-of-our-form-not-this-delegates",
        "the-sid-the-stack-id-once-gave",
        "another-account",
        "another-partition",
        "not-an-arn",
        "none",
        "own",
    ],
)
def test_any_other_request_is_refused(changes: dict[str, Any], refusal: str) -> None:
    with pytest.raises(DelegateRefused, match=refusal):
        delegate.parse(request(**changes), CONFIG)


def test_a_request_without_a_stack_is_refused() -> None:
    without = request()
    del without["StackId"]
    with pytest.raises(DelegateRefused, match="names the stack None"):
        delegate.parse(without, CONFIG)


def test_the_log_archive_side_sends_the_stack_and_the_sid_the_delegate_derives() -> None:
    target = key_policy.Target(
        KEY_ARN, key_statement_sid(ROLE_ARN, KEY_ARN), LOG_ARCHIVE, ROLE_ARN, "eu-west-1", stack_id=STACK_ID
    )
    sent: list[dict[str, Any]] = []

    def invoke(function_arn: str, payload: Any) -> tuple[Any, str]:
        sent.append(dict(payload))
        report = {"Name": "KeyPolicy", "Status": "OK", "Detail": "in place", "Data": {}}
        return {"Operation": "read", "Report": report}, ""

    delegated.Delegate("arn:aws:lambda:eu-west-1:111111111111:function:d", invoke).run(target, Mode.CHECK)
    assert delegate.parse(sent[0], CONFIG).target == target


FUNCTION_ARN = "arn:aws:lambda:eu-west-1:111111111111:function:expel-org-KeyPolicyDelegate"


@pytest.mark.parametrize(
    ("invoked", "operations", "admits"),
    [
        (FUNCTION_ARN, {"apply", "remove", "read", "plan-apply", "plan-remove"}, "key-policy"),
        (f"{FUNCTION_ARN}:$LATEST", {"apply", "remove", "read", "plan-apply", "plan-remove"}, "key-policy"),
        (delegate_reader_arn(FUNCTION_ARN), {"read"}, "verify"),
    ],
)
def test_the_door_a_call_came_through_decides_what_it_may_ask(invoked: str, operations: set[str], admits: str) -> None:
    door = delegate.door_of(invoked, CONFIG)
    assert door.operations == operations
    assert door.admits == f"arn:aws:iam::{LOG_ARCHIVE}:role/expel-onboarding/{admits}/*"


@pytest.mark.parametrize("qualifier", ["1", "live", "READER"])
def test_a_call_through_any_other_version_or_alias_is_refused(qualifier: str) -> None:
    with pytest.raises(DelegateRefused, match="neither its own ARN nor its read-only alias"):
        delegate.door_of(f"{FUNCTION_ARN}:{qualifier}", CONFIG)


@pytest.mark.parametrize("operation", ["apply", "remove", "plan-apply", "plan-remove"])
def test_the_read_only_door_refuses_every_write_before_the_key_is_touched(operation: str) -> None:
    door = delegate.door_of(delegate_reader_arn(FUNCTION_ARN), CONFIG)
    # No KMS client: a refused call never reaches the key.
    with pytest.raises(DelegateRefused, match="may only read"):
        delegate.handle(request(Operation=operation), CONFIG, None, door)  # type: ignore[arg-type]
