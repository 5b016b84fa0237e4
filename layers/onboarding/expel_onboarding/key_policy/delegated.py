"""The Log Archive side of a key in another account: through the management account's key-policy delegate,
or, without one, the exact statement and command for that account."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from expel_onboarding import errors
from expel_onboarding.errors import (
    AwsThrottled,
    DelegateFailed,
    DelegateRefused,
    OnboardingError,
)
from expel_onboarding.key_policy.kms import (
    converge,
)
from expel_onboarding.key_policy.manual import action_required
from expel_onboarding.key_policy.statement import (
    Target,
    key_account,
)
from expel_onboarding.naming import delegate_reader_arn
from expel_onboarding.reports import Mode, Status, StepReport

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


# How the Log Archive side calls a function: its JSON answer, and its FunctionError ("" when it succeeded).
Invoke = Callable[[str, Mapping[str, Any]], tuple[Any, str]]


@dataclass(frozen=True)
class Delegate:
    """The management account's key-policy delegate (org/management.yaml), reached through Lambda.

    It answers with the same StepReport the local path makes, and fails with the same error classes
    (by name, as Step Functions matches them); what it refuses is DelegateRefused."""

    function_arn: str
    invoke: Invoke

    def call(self, operation: str, target: Target) -> dict[str, Any]:
        request = {
            "Operation": operation,
            "KeyArn": target.key_arn,
            "Sid": target.sid,
            "ExpelRoleArn": target.expel_role_arn,
            "Region": target.region,
            "StackId": target.stack_id,
        }
        answer, function_error = self.invoke(self.function_arn, request)
        if function_error:
            raise delegate_error(answer, self.function_arn)
        if not isinstance(answer, dict) or not isinstance(answer.get("Report"), dict):
            raise DelegateFailed(
                f"The key-policy delegate {self.function_arn} answered {answer!r}, not a step report.",
                "deploy the org/ stack from the same release as this stack, then re-run.",
            )
        return answer

    def run(self, target: Target, mode: Mode, *, preflight: bool = False) -> StepReport:
        operation = {Mode.REMOVE: "remove", Mode.CHECK: "read"}.get(mode, "apply")
        if preflight and mode is not Mode.CHECK:
            operation = f"plan-{operation}"
        report = self.call(operation, target)["Report"]
        return StepReport(
            str(report["Name"]),
            Status(report["Status"]),
            str(report["Detail"]),
            report.get("Data", {}),
            report.get("Undo"),
        )


def delegate_error(answer: Any, function_arn: str) -> Exception:
    """The delegate's function error as the error it was there: our classes keep their names."""
    answer = answer if isinstance(answer, dict) else {}
    name, message = str(answer.get("errorType", "")), str(answer.get("errorMessage", ""))
    if name == AwsThrottled.__name__:
        # AWS throttled the delegate's own calls beyond its retries: a throttle here too, which the run retries.
        return AwsThrottled(f"The key-policy delegate {function_arn} was throttled: {message}")
    found = getattr(errors, name, None)
    if isinstance(found, type) and issubclass(found, OnboardingError):
        said, _, fix = message.partition(" To fix it: ")
        return found(said, fix or "read the delegate's log in the management account, then re-run.")
    return DelegateFailed(
        f"The key-policy delegate {function_arn} failed: {name or 'no error type'}: {message}",
        "read its log in the management account (CloudWatch Logs, the delegate's log group), fix the cause and re-run.",
    )


def run(
    target: Target,
    mode: Mode,
    *,
    delegate_arn: str,
    local_kms: Callable[[], KMSClient],
    invoke: Invoke,
    preflight: bool = False,
) -> StepReport:
    """Converge from the key's own account: here, or through its delegate; or say exactly what to do there.
    A preflight makes every read and check of the write, and no write."""
    account = key_account(target.key_arn)
    if account == target.log_archive_account:
        return converge(local_kms(), target, mode, preflight=preflight)
    if not delegate_arn:
        why = (
            f"The key is in account {account}, where only that account can edit its policy, and no "
            "KeyPolicyDelegateArn was given (the org/ template creates that delegate)."
        )
        return action_required(target, why, mode)
    try:
        return Delegate(delegate_arn, invoke).run(target, mode, preflight=preflight)
    except DelegateRefused as exc:
        why = f"The key is in account {account} and its key-policy delegate {delegate_arn} refused our request: {exc}"
        return action_required(target, why, mode)
    except ClientError as exc:
        # A throttled Invoke never lands here: the invoking client raises AwsThrottled (clients.invoke_with).
        why = (
            f"The key is in account {account} and its key-policy delegate {delegate_arn} could not be invoked ({exc})."
        )
        return action_required(target, why, mode)


def checker(
    target: Target, delegate_arn: str, local_kms: Callable[[], KMSClient], invoke: Invoke
) -> Callable[[], StepReport] | None:
    """The read-only check of our statement, from the key's account (here, or through the delegate's read-only
    alias, which answers reads only), or None when neither can reach the key."""
    if key_account(target.key_arn) == target.log_archive_account:
        return lambda: converge(local_kms(), target, Mode.CHECK)
    if not delegate_arn:
        return None
    return partial(Delegate(delegate_reader_arn(delegate_arn), invoke).run, target, Mode.CHECK)
