"""What a person is told to do by hand in the key's account: the statement, and the command that adds or
removes it."""

from __future__ import annotations

import json
import shlex

from expel_onboarding.errors import (
    KeyPolicyAmbiguous,
    KeyPolicyNotEditable,
)
from expel_onboarding.key_policy.statement import (
    STEP,
    Target,
    our_statement,
)
from expel_onboarding.reports import Mode, Status, StepReport


def manual_command(target: Target, mode: Mode = Mode.APPLY) -> str:
    """The command the key's administrators can run in its account to do this step by hand."""
    if mode is Mode.REMOVE:
        edit = f"jq '.Statement |= map(select(.Sid != \"{target.sid}\"))'"
    else:
        statement = json.dumps(our_statement(target), separators=(",", ":"))
        edit = f"jq --argjson s {shlex.quote(statement)} '.Statement |= (map(select(.Sid != $s.Sid)) + [$s])'"
    key = shlex.quote(target.key_arn)
    return (
        f"aws kms get-key-policy --key-id {key} --policy-name default --query Policy --output text | {edit} "
        f"> key-policy.json && aws kms put-key-policy --key-id {key} --policy-name default "
        "--policy file://key-policy.json"
    )


def action_required(target: Target, why: str, mode: Mode = Mode.APPLY) -> StepReport:
    statement = json.dumps(our_statement(target), indent=2)
    if mode is Mode.REMOVE:
        what = f"Remove the statement with Sid {target.sid} from the policy of {target.key_arn}"
    else:
        what = f"Add this statement to the policy of {target.key_arn} (in the key's account):\n{statement}\n"
    return StepReport(
        STEP,
        Status.ACTION_REQUIRED,
        f"{why} {what} or run there:\n{manual_command(target, mode)}",
        {"KeyArn": target.key_arn, "Sid": target.sid, "Statement": our_statement(target)},
    )


def refused(target: Target, error: KeyPolicyAmbiguous | KeyPolicyNotEditable) -> StepReport:
    """ACTION_REQUIRED for a policy we will not edit. No jq command here: jq would hide the same problem."""
    return StepReport(
        STEP,
        Status.ACTION_REQUIRED,
        str(error),
        {"KeyArn": target.key_arn, "Sid": target.sid, "Statement": our_statement(target)},
    )


def not_encrypted() -> StepReport:
    return StepReport(STEP, Status.OK, "The logs are SSE-S3 encrypted: there is no key policy to change.", {})
