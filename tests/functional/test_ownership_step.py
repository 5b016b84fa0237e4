"""Bucket ownership against moto (which, unlike AWS, gives a new bucket no ownership controls)."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from expel_onboarding import ownership
from expel_onboarding.ownership import Target
from expel_onboarding.reports import Mode, Status, StepReport
from localaws import clients
from localaws.aws_calls import AwsCalls
from tests.support.stubbed import explicit_deny, stubbable_client

ACCOUNT = "123456789012"
BUCKET = f"aws-controltower-logs-{ACCOUNT}-us-east-1"


def bucket_with(setting: str | None) -> None:
    s3 = clients.s3()
    s3.create_bucket(Bucket=BUCKET)
    if setting is not None:
        s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": setting}]})  # type: ignore[typeddict-item]


def run(mode: Mode, fix: bool = False) -> StepReport:
    return ownership.converge(clients.s3(), Target(BUCKET, ACCOUNT, fix), mode)


@pytest.mark.parametrize("setting", ["BucketOwnerEnforced", "BucketOwnerPreferred"])
def test_bucket_owned_objects_are_ok(setting: str, calls: AwsCalls) -> None:
    bucket_with(setting)
    calls.clear()
    assert run(Mode.APPLY).status is Status.OK
    assert calls.writes == []


@pytest.mark.parametrize("setting", ["ObjectWriter", None], ids=["object-writer", "no-controls"])
def test_writer_owned_objects_need_action_with_the_reason(setting: str | None, calls: AwsCalls) -> None:
    bucket_with(setting)
    calls.clear()
    report = run(Mode.APPLY)
    assert report.status is Status.ACTION_REQUIRED
    assert "unreadable to the Expel role" in report.detail
    assert "FixObjectOwnership=true" in report.detail
    assert calls.writes == []


def test_opting_in_sets_bucket_owner_preferred() -> None:
    bucket_with("ObjectWriter")
    assert run(Mode.APPLY, fix=True).status is Status.CHANGED
    assert ownership.read(clients.s3(), Target(BUCKET, ACCOUNT, True)) == "BucketOwnerPreferred"


def test_check_with_the_fix_opted_in_reports_drift_and_writes_nothing(calls: AwsCalls) -> None:
    bucket_with("ObjectWriter")
    calls.clear()
    assert run(Mode.CHECK, fix=True).status is Status.DRIFTED
    assert calls.writes == []


def test_remove_never_reverts_ownership(calls: AwsCalls) -> None:
    bucket_with("BucketOwnerPreferred")
    calls.clear()
    assert run(Mode.REMOVE, fix=True).status is Status.OK
    assert calls.made == []


def test_a_failed_fix_leaves_the_setting_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    bucket_with("ObjectWriter")
    s3 = clients.s3()

    def fail(**_: object) -> None:
        raise ConnectionError("network dropped after the read")

    monkeypatch.setattr(s3, "put_bucket_ownership_controls", fail)
    with pytest.raises(ConnectionError):
        ownership.converge(s3, Target(BUCKET, ACCOUNT, True), Mode.APPLY)
    assert ownership.read(clients.s3(), Target(BUCKET, ACCOUNT, True)) == "ObjectWriter"


def test_control_towers_cts3pv8_deny_is_reported_with_alternatives() -> None:
    s3 = stubbable_client("s3")
    read = {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT}
    with Stubber(s3) as stub:
        stub.add_response(
            "get_bucket_ownership_controls",
            {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}},
            read,
        )
        stub.add_client_error(
            "put_bucket_ownership_controls", **explicit_deny("s3:PutBucketOwnershipControls", f"arn:aws:s3:::{BUCKET}")
        )
        report = ownership.converge(s3, Target(BUCKET, ACCOUNT, True), Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "CTS3PV8" in report.detail
    assert "explicit deny" in report.detail


def test_in_trail_topic_mode_the_step_only_reads_even_when_asked_to_fix() -> None:
    s3 = stubbable_client("s3")
    read = {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT}
    with Stubber(s3) as stub:
        # No put_bucket_ownership_controls is expected: the Stubber fails on any call not queued.
        stub.add_response(
            "get_bucket_ownership_controls",
            {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}},
            read,
        )
        report = ownership.converge(s3, Target(BUCKET, ACCOUNT, fix=True, writable=False), Mode.REPAIR)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "only reads" in report.detail
