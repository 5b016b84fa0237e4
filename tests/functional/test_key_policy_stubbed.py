"""What moto's KMS does not validate, proven with botocore's Stubber: size, principals, denies, and a key
policy that does not delegate to its account's root."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.stub import Stubber

from expel_onboarding import delegate, key_policy
from expel_onboarding.errors import AccessNotGranted, ExplicitDeny, KeyNotUsable, KeyPolicyMalformed, KeyPolicyTooLarge
from expel_onboarding.key_policy import Target, delegated
from expel_onboarding.naming import key_statement_sid
from expel_onboarding.reports import Mode, Status
from tests.support import key_policy_document
from tests.support.stubbed import explicit_deny, stubbable_client

TARGET = Target(
    key_arn="arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    sid="ExpelOnboardingA1B2C3D4E5F6",
    log_archive_account="222222222222",
    expel_role_arn="arn:aws:iam::222222222222:role/ExpelTrailAssumeRole",
    region="us-east-1",
)
ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*"}
ADMIN_TEXT = json.dumps({"Version": "2012-10-17", "Statement": [ADMIN]}, separators=(",", ":"))
OURS = key_policy.our_statement(TARGET)
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
    before = json.dumps({"Version": "2012-10-17", "Statement": [ADMIN]})
    after = key_policy.apply_text(before, OURS)
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": before}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        # Stubber matches parameters exactly: a BypassPolicyLockoutSafetyCheck argument would fail here.
        stub.add_response("put_key_policy", {}, {**GET, "Policy": after})
        stub.add_response("get_key_policy", {"Policy": after}, GET)
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


def test_a_compact_policy_near_the_limit_gets_our_statement_and_stays_compact(kms: Any) -> None:
    roomy = json.dumps(policy_of_size(key_policy.MAX_POLICY_BYTES - 1200), separators=(",", ":"))
    body = key_policy.apply_text(roomy, OURS)
    assert "\n" not in body
    assert key_policy.size(body) <= key_policy.MAX_POLICY_BYTES
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": roomy}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        stub.add_response("put_key_policy", {}, {**GET, "Policy": body})
        stub.add_response("get_key_policy", {"Policy": body}, GET)
        assert key_policy.converge(kms, TARGET, Mode.APPLY).status is Status.CHANGED


def test_an_indented_policy_that_would_fit_only_if_compacted_is_refused_not_rewritten(kms: Any) -> None:
    statements = [dict(ADMIN)]
    while len(json.dumps({"Statement": [*statements, ADMIN]}, indent=2)) < key_policy.MAX_POLICY_BYTES - 200:
        statements.append({**ADMIN, "Sid": f"Team{len(statements):04d}"})
    indented = json.dumps({"Statement": statements}, indent=2)
    applied = key_policy.apply_text(indented, OURS)
    assert key_policy.size(indented) < key_policy.MAX_POLICY_BYTES < key_policy.size(applied)
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": indented}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        with pytest.raises(KeyPolicyTooLarge, match="remove the policy's indentation") as raised:
            key_policy.converge(kms, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert "KMS counts whitespace" in raised.value.fix


def padded_to(total_bytes: int, sid_filler: str = "x") -> str:
    """A compact foreign policy whose text with our statement is exactly total_bytes long."""
    base = key_policy.apply_text(
        json.dumps({"Version": "2012-10-17", "Statement": [ADMIN]}, separators=(",", ":")), OURS
    )
    missing = total_bytes - key_policy.size(base)
    width = len(sid_filler.encode())
    filler = sid_filler * (missing // width) + "x" * (missing % width)
    padded = {**ADMIN, "Sid": "Admin" + filler}
    return json.dumps({"Version": "2012-10-17", "Statement": [padded]}, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("filler", ["x", "ã"], ids=["ascii", "latin-1"])
def test_a_policy_exactly_at_the_limit_is_written_as_is(kms: Any, filler: str) -> None:
    text = padded_to(key_policy.MAX_POLICY_BYTES, filler)
    body = key_policy.apply_text(text, OURS)
    assert key_policy.size(body) == key_policy.MAX_POLICY_BYTES
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": text}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        stub.add_response("put_key_policy", {}, {**GET, "Policy": body})
        stub.add_response("get_key_policy", {"Policy": body}, GET)
        assert key_policy.converge(kms, TARGET, Mode.APPLY).status is Status.CHANGED


def test_one_byte_over_the_limit_is_refused_before_writing(kms: Any) -> None:
    text = padded_to(key_policy.MAX_POLICY_BYTES + 1)
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": text}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        with pytest.raises(KeyPolicyTooLarge, match="would be 32769 bytes"):
            key_policy.converge(kms, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()


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
    converged = key_policy_document.merge({"Statement": [ADMIN]}, key_policy.our_statement(TARGET))
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": json.dumps(converged)}, GET)
        assert key_policy.converge(kms, TARGET, Mode.CHECK).status is Status.OK
        stub.assert_no_pending_responses()


def test_orphaned_ids_under_not_principal_are_reported_before_writing(kms: Any) -> None:
    deny = {"Sid": "Deny all but", "Effect": "Deny", "NotPrincipal": {"AWS": ["AROAJ2UCCR6DPCEXAMPLE"]}}
    text = json.dumps({"Version": "2012-10-17", "Statement": [ADMIN, deny]})
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": text}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        report = key_policy.converge(kms, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "AROAJ2UCCR6DPCEXAMPLE" in report.detail
    assert "NotPrincipal" in report.detail


def test_statements_sharing_a_sid_are_action_required_and_nothing_is_written(kms: Any) -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [ADMIN, {**ADMIN, "Action": "kms:Decrypt"}]})
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": text}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        report = key_policy.converge(kms, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert 'share the Sid "Admin"' in report.detail
    assert "To fix it: its owners should keep one of each" in report.detail
    assert "jq" not in report.detail  # jq would silently keep one copy: the very guess we refuse


def test_a_repeated_key_in_another_teams_statement_is_action_required_naming_the_key(kms: Any) -> None:
    text = ADMIN_TEXT.replace('"Effect":"Allow"', '"Effect":"Deny","Effect":"Allow"')
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": text}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        report = key_policy.converge(kms, TARGET, Mode.APPLY)
    assert report.status is Status.ACTION_REQUIRED
    assert 'The statement with Sid "Admin" in the policy of' in report.detail
    assert 'names the key "Effect" twice' in report.detail


def test_two_statements_of_ours_are_action_required_even_for_a_check(kms: Any) -> None:
    text = json.dumps({"Statement": [ADMIN, OURS, OURS]})
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": text}, GET)
        report = key_policy.converge(kms, TARGET, Mode.CHECK)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert f"carry our Sid {TARGET.sid}" in report.detail


def test_a_foreign_repeat_does_not_stop_a_check_that_finds_us_in_place(kms: Any) -> None:
    text = key_policy.apply_text(ADMIN_TEXT, OURS).replace('"Effect":"Allow"', '"Effect":"Deny","Effect":"Allow"', 1)
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": text}, GET)
        assert key_policy.converge(kms, TARGET, Mode.CHECK).status is Status.OK


@pytest.mark.parametrize(
    ("code", "raised", "says"),
    [
        ("MalformedPolicyDocumentException", KeyPolicyMalformed, "not syntactically or semantically correct"),
        ("LimitExceededException", KeyPolicyTooLarge, "KMS answered: Policy too long"),
        ("KMSInvalidStateException", KeyNotUsable, "because of the key's state"),
    ],
)
def test_kms_refusing_the_put_is_said_in_words(kms: Any, code: str, raised: type[Exception], says: str) -> None:
    message = {"LimitExceededException": "Policy too long"}.get(code, f"{code} from KMS")
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": ADMIN_TEXT}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        stub.add_client_error("put_key_policy", service_error_code=code, service_message=message, http_status_code=400)
        with pytest.raises(raised, match=says) as error:
            key_policy.converge(kms, TARGET, Mode.APPLY)
    assert "To fix it:" in str(error.value)
    assert message in str(error.value)


def test_a_single_object_statement_becomes_a_list_and_the_report_says_so(kms: Any) -> None:
    single = json.dumps({"Version": "2012-10-17", "Statement": ADMIN}, indent=4)
    listed = key_policy.apply_text(single, OURS)
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": single}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        stub.add_response("put_key_policy", {}, {**GET, "Policy": listed})
        stub.add_response("get_key_policy", {"Policy": listed}, GET)
        applied = key_policy.converge(kms, TARGET, Mode.APPLY)
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": listed}, GET)
        stub.add_response("put_key_policy", {}, {**GET, "Policy": single})
        stub.add_response("get_key_policy", {"Policy": single}, GET)
        removed = key_policy.converge(kms, TARGET, Mode.REMOVE)
    assert applied.status is removed.status is Status.CHANGED
    assert "Statement was a single object" in applied.detail
    assert "made Statement that single object again" in removed.detail


# --- A key policy that does not delegate to its account's root (KMS: "Key policies in AWS KMS") ------
# moto grants whatever IAM allows; real KMS refuses every call the key policy does not allow, whatever
# the caller's IAM policies say. AWS names the refusing policy type only in the message.
def refused_by(policy_type: str, action: str) -> dict[str, Any]:
    return {
        "service_error_code": "AccessDeniedException",
        "service_message": (
            f"User: arn:aws:sts::111111111111:assumed-role/delegate/fn is not authorized to perform: {action} "
            f"on resource: {TARGET.key_arn} because no {policy_type} policy allows the {action} action"
        ),
        "http_status_code": 400,
    }


@pytest.mark.parametrize("mode", [Mode.APPLY, Mode.CHECK, Mode.REMOVE], ids=str)
def test_a_key_policy_refusing_the_read_is_action_required_with_the_statement_and_command(kms: Any, mode: Mode) -> None:
    with Stubber(kms) as stub:
        stub.add_client_error("get_key_policy", expected_params=GET, **refused_by("resource-based", "kms:GetKeyPolicy"))
        report = key_policy.converge(kms, TARGET, mode)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "neither directly nor through its account's root (arn:aws:iam::111111111111:root)" in report.detail
    assert key_policy.manual_command(TARGET, mode) in report.detail
    if mode is Mode.REMOVE:
        assert f"Remove the statement with Sid {TARGET.sid}" in report.detail
    else:
        assert json.dumps(OURS, indent=2) in report.detail
    assert report.data["Statement"] == OURS


def test_a_key_policy_refusing_only_the_put_is_action_required_and_nothing_else_is_tried(kms: Any) -> None:
    with Stubber(kms) as stub:
        stub.add_response("get_key_policy", {"Policy": ADMIN_TEXT}, GET)
        stub.add_response("describe_key", ENABLED, {"KeyId": TARGET.key_arn})
        stub.add_client_error("put_key_policy", **refused_by("resource-based", "kms:PutKeyPolicy"))
        report = key_policy.converge(kms, TARGET, Mode.APPLY)
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "KMS refused kms:PutKeyPolicy" in report.detail
    assert key_policy.manual_command(TARGET) in report.detail


def test_our_own_roles_missing_permission_stays_a_retryable_access_error(kms: Any) -> None:
    # "no identity-based policy allows": the key policy delegates to IAM and our role lacks the grant, or it
    # has not propagated yet; the state machine retries AccessNotGranted.
    with Stubber(kms) as stub:
        stub.add_client_error("get_key_policy", expected_params=GET, **refused_by("identity-based", "kms:GetKeyPolicy"))
        with pytest.raises(AccessNotGranted, match="kms:GetKeyPolicy"):
            key_policy.converge(kms, TARGET, Mode.APPLY)


# The same refusal seen through the management account's delegate (delegated.Delegate): its report
# crosses Lambda as JSON and arrives as the same ACTION_REQUIRED.
LOG_ARCHIVE = "222222222222"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{LOG_ARCHIVE}:stack/expel-onboarding/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
DELEGATED = replace(TARGET, sid=key_statement_sid(TARGET.expel_role_arn, TARGET.key_arn), stack_id=STACK_ID)
DELEGATE_CONFIG = delegate.Config(TARGET.key_arn, TARGET.expel_role_arn, LOG_ARCHIVE, "aws")
DELEGATE_ARN = "arn:aws:lambda:us-east-1:111111111111:function:expel-org-KeyPolicyDelegate"


def through_the_delegate(kms: Any) -> delegated.Invoke:
    def invoke(function_arn: str, payload: Any) -> tuple[Any, str]:
        assert function_arn == DELEGATE_ARN
        door = delegate.door_of(function_arn, DELEGATE_CONFIG)
        return json.loads(json.dumps(delegate.handle(json.loads(json.dumps(payload)), DELEGATE_CONFIG, kms, door))), ""

    return invoke


@pytest.mark.parametrize("mode", [Mode.APPLY, Mode.CHECK, Mode.REMOVE], ids=str)
def test_through_the_delegate_a_key_policy_without_root_delegation_is_action_required(kms: Any, mode: Mode) -> None:
    with Stubber(kms) as stub:
        stub.add_client_error("get_key_policy", expected_params=GET, **refused_by("resource-based", "kms:GetKeyPolicy"))
        report = delegated.run(
            DELEGATED, mode, delegate_arn=DELEGATE_ARN, local_kms=lambda: kms, invoke=through_the_delegate(kms)
        )
        # A read after the refusal would fail the same way: the delegate does not try it.
        stub.assert_no_pending_responses()
    assert report.status is Status.ACTION_REQUIRED
    assert "neither directly nor through its account's root" in report.detail
    assert key_policy.manual_command(DELEGATED, mode) in report.detail


def test_the_delegates_read_answers_no_statement_when_the_key_policy_refuses_it(kms: Any) -> None:
    request = {
        "Operation": "read",
        "KeyArn": TARGET.key_arn,
        "Sid": DELEGATED.sid,
        "ExpelRoleArn": TARGET.expel_role_arn,
        "Region": "us-east-1",
        "StackId": STACK_ID,
    }
    with Stubber(kms) as stub:
        stub.add_client_error("get_key_policy", expected_params=GET, **refused_by("resource-based", "kms:GetKeyPolicy"))
        answer = delegate.handle(request, DELEGATE_CONFIG, kms, delegate.door_of(DELEGATE_ARN, DELEGATE_CONFIG))
        stub.assert_no_pending_responses()
    assert answer["Report"]["Status"] == "ACTION_REQUIRED"
    assert answer["Statement"] is None
