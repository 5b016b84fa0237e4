from __future__ import annotations

import pytest

from expel_onboarding.errors import OnboardingError
from expel_onboarding.naming import owned_id
from expel_onboarding.reports import Mode, Status, StepReport

STACK = "arn:aws:cloudformation:us-east-1:111122223333:stack/expel-cloudtrail/0a1b2c3d-1111-2222-3333-444455556666"


def test_owned_id_is_the_same_for_the_same_stack() -> None:
    assert owned_id(STACK) == owned_id(STACK) == "ExpelOnboarding" + owned_id(STACK)[-12:]


def test_owned_id_differs_between_stacks() -> None:
    assert owned_id(STACK) != owned_id(STACK.replace("expel-cloudtrail", "expel-cloudtrail-2"))


def test_owned_id_is_a_valid_kms_sid_and_notification_id() -> None:
    assert owned_id(STACK).isalnum()
    assert len(owned_id(STACK)) <= 255


def test_owned_id_refuses_an_empty_stack() -> None:
    with pytest.raises(ValueError, match="stack_id is empty"):
        owned_id("")


def test_only_check_mode_is_read_only() -> None:
    assert [mode for mode in Mode if not mode.writes] == [Mode.CHECK]


def test_step_report_serialises_for_the_state_machine() -> None:
    report = StepReport("Notification", Status.CHANGED, "Added our entry.", {"NotificationId": "x"})
    assert report.to_dict() == {
        "Name": "Notification",
        "Status": "CHANGED",
        "Detail": "Added our entry.",
        "Data": {"NotificationId": "x"},
    }


def test_onboarding_error_says_what_was_found_and_the_fix() -> None:
    error = OnboardingError("Bucket b is in eu-west-1.", "deploy the stack in eu-west-1.")
    assert str(error) == "Bucket b is in eu-west-1. To fix it: deploy the stack in eu-west-1."
