"""The key-policy step against moto's KMS and STS, across the management and Log Archive accounts."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from expel_onboarding import clients, key_policy
from expel_onboarding.errors import ConcurrentModification, KeyNotUsable
from expel_onboarding.key_policy import Target
from expel_onboarding.reports import Mode, Status
from localaws.landing_zone import CLOUDTRAIL_KEY_POLICY, MANAGEMENT
from tests.support.aws_calls import AwsCalls

LOG_ARCHIVE = "123456789012"  # moto's default account: assumed-role keys then switch accounts
ROLE_ARN = f"arn:aws:iam::{MANAGEMENT}:role/ExpelKeyPolicyEditor"
FOREIGN_POLICY: dict[str, Any] = CLOUDTRAIL_KEY_POLICY


@pytest.fixture
def key_arn(monkeypatch: pytest.MonkeyPatch) -> str:
    """The CloudTrail key in the management account, with other teams' statements."""
    with monkeypatch.context() as scoped:
        scoped.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
        kms = boto3.client("kms")
        arn = kms.create_key(Description="aws-controltower CloudTrail")["KeyMetadata"]["Arn"]
        kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(FOREIGN_POLICY))
    return arn


def target(key_arn: str) -> Target:
    return Target(
        key_arn=key_arn,
        sid="ExpelOnboardingA1B2C3D4E5F6",
        log_archive_account=LOG_ARCHIVE,
        expel_role_arn=f"arn:aws:iam::{LOG_ARCHIVE}:role/ExpelTrailAssumeRole",
        region="us-east-1",
    )


def policy_in_management(key_arn: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as scoped:
        scoped.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
        text = boto3.client("kms").get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def run(key_arn: str, mode: Mode, calls: AwsCalls, role: str = ROLE_ARN) -> Any:
    """The step as its handler runs it; calls counts every client, the assumed-role one included."""
    return key_policy.run(
        target(key_arn), mode, key_policy_role_arn=role, local_kms=clients.kms, assumed_kms=clients.kms_as
    )


def test_apply_adds_our_statement_through_the_key_policy_role(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = run(key_arn, Mode.APPLY, calls)
    assert report.status is Status.CHANGED
    policy = policy_in_management(key_arn, monkeypatch)
    assert policy["Statement"][:3] == FOREIGN_POLICY["Statement"]
    assert policy["Statement"][3] == key_policy.our_statement(target(key_arn))
    assert "sts:AssumeRole" in calls.made
    assert calls.writes == ["kms:PutKeyPolicy"]


def test_apply_on_a_converged_key_writes_nothing(key_arn: str, calls: AwsCalls) -> None:
    run(key_arn, Mode.APPLY, calls)
    calls.clear()
    assert run(key_arn, Mode.APPLY, calls).status is Status.OK
    assert calls.made == ["sts:AssumeRole", "kms:GetKeyPolicy"]


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


def test_without_a_key_policy_role_the_customer_gets_the_statement_and_command(key_arn: str, calls: AwsCalls) -> None:
    report = run(key_arn, Mode.APPLY, calls, role="")
    assert report.status is Status.ACTION_REQUIRED
    assert "KeyPolicyRoleArn" in report.detail
    assert '"Sid": "ExpelOnboardingA1B2C3D4E5F6"' in report.detail
    assert "aws kms put-key-policy" in report.detail
    assert calls.made == []


def test_an_unassumable_role_is_action_required_not_silent(key_arn: str) -> None:
    def refuse(role_arn: str, region: str) -> Any:
        error = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"}}
        raise ClientError(error, "AssumeRole")  # type: ignore[arg-type]

    report = key_policy.run(
        target(key_arn), Mode.APPLY, key_policy_role_arn=ROLE_ARN, local_kms=clients.kms, assumed_kms=refuse
    )
    assert report.status is Status.ACTION_REQUIRED
    assert "could not be assumed" in report.detail
    assert ROLE_ARN in report.detail


def test_remove_without_access_explains_how_to_remove_by_hand(key_arn: str, calls: AwsCalls) -> None:
    report = run(key_arn, Mode.REMOVE, calls, role="")
    assert report.status is Status.ACTION_REQUIRED
    assert 'select(.Sid != "ExpelOnboardingA1B2C3D4E5F6")' in report.detail


def test_a_key_in_the_log_archive_account_needs_no_role(calls: AwsCalls) -> None:
    arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    assert run(arn, Mode.APPLY, calls, role="").status is Status.CHANGED
    assert "sts:AssumeRole" not in calls.made


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
        break_key(boto3.client("kms"), key_arn.rsplit("/", 1)[1])
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

    def failing_kms(role_arn: str, region: str) -> Any:
        kms = clients.kms_as(role_arn, region)

        def fail(**_: Any) -> None:
            raise ConnectionError("network dropped after the read")

        kms.put_key_policy = fail
        return kms

    with pytest.raises(ConnectionError):
        key_policy.run(
            target(key_arn), Mode.APPLY, key_policy_role_arn=ROLE_ARN, local_kms=clients.kms, assumed_kms=failing_kms
        )
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
        text: str = boto3.client("kms").get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    return text


def put_in_management(key_arn: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as scoped:
        scoped.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
        boto3.client("kms").put_key_policy(KeyId=key_arn, PolicyName="default", Policy=text)


def test_apply_then_remove_gives_back_the_policy_text_byte_for_byte(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_in_management(key_arn, FOREIGN_TEXT, monkeypatch)
    assert run(key_arn, Mode.APPLY, calls).status is Status.CHANGED
    applied = text_in_management(key_arn, monkeypatch)
    assert applied.startswith(FOREIGN_TEXT[: FOREIGN_TEXT.index("\r\n\t]")])
    assert '\t\t{\r\n\t\t\t"Sid": "ExpelOnboardingA1B2C3D4E5F6",\r\n' in applied
    assert run(key_arn, Mode.REMOVE, calls).status is Status.CHANGED
    assert text_in_management(key_arn, monkeypatch) == FOREIGN_TEXT


def losing_answers(landed: list[bool], error: Exception) -> Any:
    """An assumed-role client whose PutKeyPolicy answers are lost; landed says which writes happened."""
    outcomes = iter(landed)

    def kms_as(role_arn: str, region: str) -> Any:
        kms = clients.kms_as(role_arn, region)
        put = kms.put_key_policy

        def lost(**kwargs: Any) -> None:
            if next(outcomes):
                put(**kwargs)
            raise error

        kms.put_key_policy = lost
        return kms

    return kms_as


LOST = [
    ReadTimeoutError(endpoint_url="https://kms.us-east-1.amazonaws.com/"),
    EndpointConnectionError(endpoint_url="https://kms.us-east-1.amazonaws.com/"),
    ConnectionClosedError(endpoint_url="https://kms.us-east-1.amazonaws.com/"),
]


@pytest.mark.parametrize("error", LOST, ids=lambda error: type(error).__name__)
def test_a_write_whose_answer_was_lost_but_landed_is_changed_after_a_re_read(
    key_arn: str, calls: AwsCalls, error: Exception
) -> None:
    report = key_policy.run(
        target(key_arn),
        Mode.APPLY,
        key_policy_role_arn=ROLE_ARN,
        local_kms=clients.kms,
        assumed_kms=losing_answers([True], error),
    )
    assert report.status is Status.CHANGED
    assert "answer to our write was lost" in report.detail
    assert calls.writes == ["kms:PutKeyPolicy"]


def test_a_write_that_did_not_land_is_made_again(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = key_policy.run(
        target(key_arn),
        Mode.APPLY,
        key_policy_role_arn=ROLE_ARN,
        local_kms=clients.kms,
        assumed_kms=losing_answers([False, True], LOST[0]),
    )
    assert report.status is Status.CHANGED
    assert calls.writes == ["kms:PutKeyPolicy"]  # the first never reached KMS
    assert policy_in_management(key_arn, monkeypatch)["Statement"][-1] == key_policy.our_statement(target(key_arn))


def test_writes_that_never_land_stop_after_a_bounded_number_of_attempts(
    key_arn: str, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = text_in_management(key_arn, monkeypatch)
    calls.clear()
    with pytest.raises(ConcurrentModification, match=f"{key_policy.MAX_WRITES} times in a row"):
        key_policy.run(
            target(key_arn),
            Mode.APPLY,
            key_policy_role_arn=ROLE_ARN,
            local_kms=clients.kms,
            assumed_kms=losing_answers([False] * key_policy.MAX_WRITES, LOST[1]),
        )
    assert calls.count()["kms:GetKeyPolicy"] == 1 + key_policy.MAX_WRITES  # the read, and a re-read per attempt
    assert calls.writes == []
    assert text_in_management(key_arn, monkeypatch) == before
