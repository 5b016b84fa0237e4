"""The key-policy step against moto's KMS, across the management and Log Archive accounts: from the
key's own account, or through the management account's key-policy delegate."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from expel_onboarding import clients, delegate, key_policy
from expel_onboarding.errors import ConcurrentModification, DelegateFailed, KeyNotUsable
from expel_onboarding.key_policy import Target, delegated
from expel_onboarding.naming import key_statement_sid
from expel_onboarding.reports import Mode, Status
from localaws import clients as local_clients
from localaws.accounts import MANAGEMENT, as_account
from localaws.aws_calls import AwsCalls
from localaws.control_tower import CLOUDTRAIL_KEY_POLICY

LOG_ARCHIVE = "123456789012"  # moto's default account
DELEGATE_ARN = f"arn:aws:lambda:us-east-1:{MANAGEMENT}:function:expel-org-KeyPolicyDelegate"
EXPEL_ROLE_ARN = f"arn:aws:iam::{LOG_ARCHIVE}:role/ExpelTrailAssumeRole"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{LOG_ARCHIVE}:stack/expel-onboarding/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
FOREIGN_POLICY: dict[str, Any] = CLOUDTRAIL_KEY_POLICY


@pytest.fixture
def key_arn(monkeypatch: pytest.MonkeyPatch) -> str:
    """The CloudTrail key in the management account, with other teams' statements."""
    with monkeypatch.context() as scoped:
        scoped.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
        kms = local_clients.kms()
        arn = kms.create_key(Description="aws-controltower CloudTrail")["KeyMetadata"]["Arn"]
        kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(FOREIGN_POLICY))
    return arn


def target(key_arn: str) -> Target:
    return Target(
        key_arn=key_arn,
        sid=key_statement_sid(EXPEL_ROLE_ARN, key_arn),
        log_archive_account=LOG_ARCHIVE,
        expel_role_arn=EXPEL_ROLE_ARN,
        region="us-east-1",
        stack_id=STACK_ID,
    )


def policy_in_management(key_arn: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as scoped:
        scoped.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
        text = local_clients.kms().get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def in_process_delegate(
    configured_key: str, kms_of: Callable[[Any], Any] = lambda kms: kms
) -> Callable[[str, Mapping[str, Any]], tuple[Any, str]]:
    """The delegate as Lambda runs it, here: its own stack's key and role, acting as the management
    account, its request and answer through JSON, an exception as Lambda's function error."""
    config = delegate.Config(configured_key, EXPEL_ROLE_ARN, LOG_ARCHIVE, "aws")

    def invoke(function_arn: str, payload: Mapping[str, Any]) -> tuple[Any, str]:
        assert function_arn == DELEGATE_ARN
        with as_account(MANAGEMENT):
            kms = kms_of(local_clients.kms())
            try:
                return json.loads(
                    json.dumps(
                        delegate.handle(
                            json.loads(json.dumps(payload)), config, kms, delegate.door_of(function_arn, config)
                        )
                    )
                ), ""
            except Exception as exc:  # noqa: BLE001 - what Lambda does with an unhandled error
                return {"errorType": type(exc).__name__, "errorMessage": str(exc)}, "Unhandled"

    return invoke


def run(key_arn: str, mode: Mode, calls: AwsCalls, delegate_arn: str = DELEGATE_ARN, **kwargs: Any) -> Any:
    """The step as its handler runs it; calls counts every client, the delegate's included."""
    invoke = kwargs.get("invoke") or in_process_delegate(key_arn)
    return delegated.run(
        target(key_arn), mode, delegate_arn=delegate_arn, local_kms=partial(clients.kms, key_arn), invoke=invoke
    )


def test_apply_adds_our_statement_through_the_key_policy_delegate(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = run(key_arn, Mode.APPLY, calls)
    assert report.status is Status.CHANGED
    policy = policy_in_management(key_arn, monkeypatch)
    assert policy["Statement"][:3] == FOREIGN_POLICY["Statement"]
    assert policy["Statement"][3] == key_policy.our_statement(target(key_arn))
    assert calls.writes == ["kms:PutKeyPolicy"]


def test_apply_on_a_converged_key_writes_nothing(key_arn: str, calls: AwsCalls) -> None:
    run(key_arn, Mode.APPLY, calls)
    calls.clear()
    assert run(key_arn, Mode.APPLY, calls).status is Status.OK
    assert calls.made == ["kms:GetKeyPolicy"]


def test_check_reports_a_removed_statement_as_drift(key_arn: str, calls: AwsCalls) -> None:
    run(key_arn, Mode.APPLY, calls)
    run(key_arn, Mode.REMOVE, calls)
    calls.clear()
    assert run(key_arn, Mode.CHECK, calls).status is Status.DRIFTED
    assert calls.writes == []


def test_remove_restores_the_policy_exactly(key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch) -> None:
    run(key_arn, Mode.APPLY, calls)
    assert run(key_arn, Mode.REMOVE, calls).status is Status.CHANGED
    assert policy_in_management(key_arn, monkeypatch) == FOREIGN_POLICY


def test_without_a_key_policy_delegate_the_customer_gets_the_statement_and_command(
    key_arn: str, calls: AwsCalls
) -> None:
    report = run(key_arn, Mode.APPLY, calls, delegate_arn="")
    assert report.status is Status.ACTION_REQUIRED
    assert "KeyPolicyDelegateArn" in report.detail
    assert f'"Sid": "{target(key_arn).sid}"' in report.detail
    assert "aws kms put-key-policy" in report.detail
    assert calls.made == []


def test_a_delegate_that_cannot_be_invoked_is_action_required_not_silent(key_arn: str, calls: AwsCalls) -> None:
    def refuse(function_arn: str, payload: Mapping[str, Any]) -> Any:
        error = {
            "Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: lambda:InvokeFunction"}
        }
        raise ClientError(error, "Invoke")  # type: ignore[arg-type]

    report = run(key_arn, Mode.APPLY, calls, invoke=refuse)
    assert report.status is Status.ACTION_REQUIRED
    assert "could not be invoked" in report.detail
    assert DELEGATE_ARN in report.detail
    assert "aws kms put-key-policy" in report.detail


def test_a_delegate_configured_for_another_key_refuses_and_the_step_says_why(key_arn: str, calls: AwsCalls) -> None:
    other = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    report = run(key_arn, Mode.APPLY, calls, invoke=in_process_delegate(other))
    assert report.status is Status.ACTION_REQUIRED
    assert "refused our request" in report.detail
    assert f"this delegate may act on {other} only" in report.detail
    assert calls.made == []


def test_the_delegates_errors_arrive_as_the_same_errors(key_arn: str, calls: AwsCalls) -> None:
    # A check reads through the delegate; a missing key is KeyNotUsable there and here.
    missing = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(KeyNotUsable, match="CloudTrailKeyArn"):
        run(missing, Mode.CHECK, calls)


def test_remove_without_access_explains_how_to_remove_by_hand(key_arn: str, calls: AwsCalls) -> None:
    report = run(key_arn, Mode.REMOVE, calls, delegate_arn="")
    assert report.status is Status.ACTION_REQUIRED
    assert f'select(.Sid != "{target(key_arn).sid}")' in report.detail


def test_a_key_in_the_log_archive_account_needs_no_delegate(calls: AwsCalls) -> None:
    arn = local_clients.kms().create_key()["KeyMetadata"]["Arn"]

    def never(function_arn: str, payload: Mapping[str, Any]) -> Any:
        raise AssertionError("the delegate is for a key in another account")

    assert run(arn, Mode.APPLY, calls, delegate_arn="", invoke=never).status is Status.CHANGED


@pytest.mark.parametrize(
    ("break_key", "state"),
    [
        (lambda kms, key_id: kms.disable_key(KeyId=key_id), "Disabled"),
        (lambda kms, key_id: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7), "PendingDeletion"),
    ],
    ids=["disabled", "pending-deletion"],
)
def test_an_unusable_key_is_refused_with_its_state(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch, break_key: Callable[[Any, str], Any], state: str
) -> None:
    with monkeypatch.context() as scoped:
        scoped.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
        break_key(local_clients.kms(), key_arn.rsplit("/", 1)[1])
    calls.clear()
    with pytest.raises(KeyNotUsable, match=state):
        run(key_arn, Mode.APPLY, calls)
    assert calls.writes == []


def test_a_missing_key_is_refused_with_the_parameter_to_fix(calls: AwsCalls) -> None:
    missing = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(KeyNotUsable, match="CloudTrailKeyArn"):
        run(missing, Mode.APPLY, calls)


def test_a_failed_write_leaves_the_foreign_policy_intact(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = copy.deepcopy(policy_in_management(key_arn, monkeypatch))

    def failing(kms: Any) -> Any:
        def fail(**_: Any) -> None:
            raise ConnectionError("network dropped after the read")

        kms.put_key_policy = fail
        return kms

    with pytest.raises(DelegateFailed, match="ConnectionError: network dropped after the read"):
        run(key_arn, Mode.APPLY, calls, invoke=in_process_delegate(key_arn, failing))
    assert policy_in_management(key_arn, monkeypatch) == before


# Other teams' text as KMS keeps it: tabs, CRLF, Latin-1 literally, a \u escape above Latin-1.
FOREIGN_TEXT = (
    '{\r\n\t"Version": "2012-10-17",\r\n\t"Id": "Política de São Paulo",\r\n\t"Statement": [\r\n'
    '\t\t{\r\n\t\t\t"Sid": "Enable IAM User Permissions",\r\n\t\t\t"Effect": "Allow",\r\n'
    f'\t\t\t"Principal": {{"AWS": "arn:aws:iam::{MANAGEMENT}:root"}},\r\n'
    '\t\t\t"Action": "kms:*",\r\n\t\t\t"Resource": "*"\r\n\t\t},\r\n'
    '\t\t{\r\n\t\t\t"Sid": "Équipe d\u2019audit",\r\n\t\t\t"Effect": "Allow",\r\n'
    f'\t\t\t"Principal": {{"AWS": "arn:aws:iam::{MANAGEMENT}:role/Audit"}},\r\n'
    '\t\t\t"Action": "kms:DescribeKey",\r\n\t\t\t"Resource": "*"\r\n\t\t}\r\n\t]\r\n}\r\n'
)


def text_in_management(key_arn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as scoped:
        scoped.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
        text: str = local_clients.kms().get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    return text


def put_in_management(key_arn: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as scoped:
        scoped.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
        local_clients.kms().put_key_policy(KeyId=key_arn, PolicyName="default", Policy=text)


def test_apply_then_remove_gives_back_the_policy_text_byte_for_byte(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_in_management(key_arn, FOREIGN_TEXT, monkeypatch)
    assert run(key_arn, Mode.APPLY, calls).status is Status.CHANGED
    applied = text_in_management(key_arn, monkeypatch)
    assert applied.startswith(FOREIGN_TEXT[: FOREIGN_TEXT.index("\r\n\t]")])
    assert f'\t\t{{\r\n\t\t\t"Sid": "{target(key_arn).sid}",\r\n' in applied
    assert run(key_arn, Mode.REMOVE, calls).status is Status.CHANGED
    assert text_in_management(key_arn, monkeypatch) == FOREIGN_TEXT


def losing_answers(key_arn: str, landed: list[bool], error: Exception) -> Any:
    """The delegate, whose PutKeyPolicy answers are lost; landed says which writes happened."""
    outcomes = iter(landed)

    def losing(kms: Any) -> Any:
        put = kms.put_key_policy

        def lost(**kwargs: Any) -> None:
            if next(outcomes):
                put(**kwargs)
            raise error

        kms.put_key_policy = lost
        return kms

    return in_process_delegate(key_arn, losing)


LOST = [
    ReadTimeoutError(endpoint_url="https://kms.us-east-1.amazonaws.com/"),
    EndpointConnectionError(endpoint_url="https://kms.us-east-1.amazonaws.com/"),
    ConnectionClosedError(endpoint_url="https://kms.us-east-1.amazonaws.com/"),
]


@pytest.mark.parametrize("error", LOST, ids=lambda error: type(error).__name__)
def test_a_write_whose_answer_was_lost_but_landed_is_changed_after_a_re_read(
    key_arn: str, calls: AwsCalls, error: Exception
) -> None:
    report = run(key_arn, Mode.APPLY, calls, invoke=losing_answers(key_arn, [True], error))
    assert report.status is Status.CHANGED
    assert "answer to our write was lost" in report.detail
    assert calls.writes == ["kms:PutKeyPolicy"]


def test_a_write_that_did_not_land_is_made_again(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = run(key_arn, Mode.APPLY, calls, invoke=losing_answers(key_arn, [False, True], LOST[0]))
    assert report.status is Status.CHANGED
    assert calls.writes == ["kms:PutKeyPolicy"]  # the first never reached KMS
    assert policy_in_management(key_arn, monkeypatch)["Statement"][-1] == key_policy.our_statement(target(key_arn))


def test_writes_that_never_land_stop_after_a_bounded_number_of_attempts(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = text_in_management(key_arn, monkeypatch)
    calls.clear()
    with pytest.raises(ConcurrentModification, match=f"{key_policy.MAX_WRITES} times in a row"):
        run(key_arn, Mode.APPLY, calls, invoke=losing_answers(key_arn, [False] * key_policy.MAX_WRITES, LOST[1]))
    assert calls.count()["kms:GetKeyPolicy"] == 1 + key_policy.MAX_WRITES  # the read, and a re-read per attempt
    assert calls.writes == []
    assert text_in_management(key_arn, monkeypatch) == before
