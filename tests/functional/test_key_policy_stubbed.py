"""What moto's KMS does not validate, proven with botocore's Stubber: size, principals, denies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from expel_onboarding import key_policy
from expel_onboarding.errors import ExplicitDeny, KeyPolicyTooLarge
from expel_onboarding.key_policy import Target
from expel_onboarding.reports import Mode, Status
from tests.support.stubbed import explicit_deny, stubbable_client

TARGET = Target(
    key_arn="arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    sid="ExpelOnboardingA1B2C3D4E5F6",
    log_archive_account="222222222222",
    expel_role_arn="arn:aws:iam::222222222222:role/ExpelTrailAssumeRole",
    region="us-east-1",
)
ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*"}
GET = {"KeyId": TARGET.key_arn, "PolicyName": "default"}
ENABLED = {"KeyMetadata": {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "KeyState": "Enabled"}}


@pytest.fixture
def kms() -> Any:
    return stubbable_client("kms")


def policy_of_size(target_bytes: int) -> dict[str, Any]:
    """A foreign policy whose readable JSON is about target_bytes long."""
    statements = [dict(ADMIN)]
    while len(json.dumps({"Statement": statements}, separators=(",", ":"))) < target_bytes:
        index = len(statements)
        statements.append({**ADMIN, "Sid": f"Team{index:04d}", "Principal": {"AWS": f"arn:aws:iam::1:role/r{index}"}})
    return {"Version": "2012-10-17", "Statement": statements}


def test_the_put_never_bypasses_the_lockout_safety_check(kms: Any) -> None:
    before = {"Version": "2012-10-17", "Statement": [ADMIN]}
    after = key_policy.merge(before, key_policy.our_statement(TARGET))
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": json.dumps(before)}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        # Stubber matches parameters exactly: a BypassPolicyLockoutSafetyCheck argument would fail here.
        stub.add_response("put_key_policy", {}, {**GET, "Policy": key_policy.serialize(after)})
        stub.add_response("get_key_policy", {"Policy": json.dumps(after)}, GET)
        assert key_policy.converge(kms, TARGET, Mode.APPLY).status is Status.CHANGED
        stub.assert_no_pending_responses()


def test_a_policy_that_would_pass_32_kib_is_refused_before_writing(kms: Any) -> None:
    full = policy_of_size(key_policy.MAX_POLICY_BYTES - 200)
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": json.dumps(full)}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        with pytest.raises(KeyPolicyTooLarge, match="32768") as raised:
            key_policy.converge(kms, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert "KMS grant" in str(raised.value)


def test_a_policy_just_under_the_limit_is_written_compactly(kms: Any) -> None:
    roomy = policy_of_size(key_policy.MAX_POLICY_BYTES - 1200)
    after = key_policy.merge(roomy, key_policy.our_statement(TARGET))
    body = key_policy.serialize(after)
    assert key_policy.size(body) <= key_policy.MAX_POLICY_BYTES < key_policy.size(json.dumps(after, indent=2))
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": json.dumps(roomy)}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        stub.add_response("put_key_policy", {}, {**GET, "Policy": body})
        stub.add_response("get_key_policy", {"Policy": body}, GET)
        assert key_policy.converge(kms, TARGET, Mode.APPLY).status is Status.CHANGED


def test_orphaned_principals_are_reported_not_deleted(kms: Any) -> None:
    orphaned = {**ADMIN, "Sid": "OldTeam", "Principal": {"AWS": "AROAJ2UCCR6DPCEXAMPLE"}}
    policy = {"Version": "2012-10-17", "Statement": [ADMIN, orphaned]}
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": json.dumps(policy)}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        report = key_policy.converge(kms, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "AROAJ2UCCR6DPCEXAMPLE" in report.detail
    assert "aws kms put-key-policy" in report.detail


def test_an_explicit_deny_on_put_key_policy_is_reported_as_such(kms: Any) -> None:
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": json.dumps({"Statement": [ADMIN]})}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        stub.add_client_error("put_key_policy", **explicit_deny("kms:PutKeyPolicy", TARGET.key_arn))
        with pytest.raises(ExplicitDeny, match="kms:PutKeyPolicy"):
            key_policy.converge(kms, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()


def test_check_on_a_converged_policy_reads_once(kms: Any) -> None:
    converged = key_policy.merge({"Statement": [ADMIN]}, key_policy.our_statement(TARGET))
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": json.dumps(converged)}, GET)
        assert key_policy.converge(kms, TARGET, Mode.CHECK).status is Status.OK
        stub.assert_no_pending_responses()
