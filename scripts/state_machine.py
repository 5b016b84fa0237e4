"""The onboarding state machine's definition, statemachine/onboarding.asl.json, generated from one source.

Each Retry and each Catch is declared once here, and the orders come from expel_onboarding.steps: converge
and remove, the writers a preflight checks, the undo of a write. `make asl` writes the file, which is
committed (SAM's DefinitionUri reads it); tests/template/test_state_machine_source.py holds it equal to
what this module generates.

    python -m scripts.state_machine            # write statemachine/onboarding.asl.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expel_onboarding import steps
from expel_onboarding.errors import AccessNotGranted, AwsThrottled, NotYetPropagated
from expel_onboarding.reports import Mode

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "statemachine" / "onboarding.asl.json"
OUTPUTS, DONE, FAILED = "Outputs", "Done", "RunFailed"

# Lambda's own transient errors (Step Functions developer guide, "Handling errors in Step Functions
# workflows": retry Lambda service exceptions), AWS throttling beyond botocore's retries, and what looks like
# IAM propagation right after the stack is created (about 28 s at most: 4 + 8 + 16 with full jitter).
LAMBDA_ERRORS = {
    "ErrorEquals": [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ],
    "IntervalSeconds": 2,
    "MaxAttempts": 4,
    "BackoffRate": 2.0,
    "JitterStrategy": "FULL",
}
THROTTLED = {
    "ErrorEquals": [AwsThrottled.__name__],
    "IntervalSeconds": 3,
    "MaxAttempts": 4,
    "BackoffRate": 2.0,
    "JitterStrategy": "FULL",
}
PROPAGATION = {
    "ErrorEquals": [NotYetPropagated.__name__, AccessNotGranted.__name__],
    "IntervalSeconds": 4,
    "MaxAttempts": 3,
    "BackoffRate": 2.0,
    "JitterStrategy": "FULL",
}
STEP_RETRIES = [LAMBDA_ERRORS, THROTTLED, PROPAGATION]
# The Outputs step only reads the run and publishes metrics: nothing it calls can be propagating.
OUTPUTS_RETRIES = [LAMBDA_ERRORS, THROTTLED]


def caught(next_state: str, result_path: str = "$.Failure") -> list[dict[str, Any]]:
    """Any error of the state goes to next_state, kept at result_path for the Outputs step to report."""
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": result_path, "Next": next_state}]


def function(step: str) -> str:
    """The DefinitionSubstitutions name template.yaml gives the step's function."""
    return "${" + step + "FunctionArn}"


def task(
    step: str,
    comment: str,
    *,
    result_path: str | None = None,
    phase: steps.Phase | None = None,
    catch: list[dict[str, Any]] | None = None,
    retry: list[dict[str, Any]] | None = None,
    then: str | None = None,
) -> dict[str, Any]:
    """A Task state running one step's function. then=None ends a Parallel branch."""
    state: dict[str, Any] = {"Type": "Task", "Comment": comment, "Resource": function(step)}
    if phase is not None:
        state["Parameters"] = {"Phase": phase.value, "Run.$": "$"}
    if result_path is not None:
        state["ResultPath"] = result_path
    state["Retry"] = retry if retry is not None else STEP_RETRIES
    if catch is not None:
        state["Catch"] = catch
    state.update({"Next": then} if then is not None else {"End": True})
    return state


def preflight(name: str, writers: tuple[str, ...], then: str) -> dict[str, dict[str, Any]]:
    """Every writing step's preflight side by side, then a Choice that ends a run one of them refused."""
    branches = [
        {
            "StartAt": f"{steps.PREFLIGHT_PREFIX}{prefix}{writer}",
            "States": {
                f"{steps.PREFLIGHT_PREFIX}{prefix}{writer}": task(
                    writer, f"{writer}: every read and check of the write, and no write.", phase=steps.Phase.PREFLIGHT
                )
            },
        }
        for writer in writers
        for prefix in [steps.REMOVE_PREFIX if name.startswith(steps.REMOVE_PREFIX) else ""]
    ]
    return {
        name: {
            "Type": "Parallel",
            "Comment": "Every writing step checks what its write would meet, before any step writes: a refusal "
            "stops the run with nothing written.",
            "Branches": branches,
            "ResultSelector": {f"{writer}.$": f"$[{index}]" for index, writer in enumerate(writers)},
            "ResultPath": "$.Preflight",
            "Next": f"{name}Passed",
            "Catch": caught(OUTPUTS),
        },
        f"{name}Passed": {
            "Type": "Choice",
            "Comment": "A preflight that refused (FAILED) ends the run before its first write.",
            "Choices": [
                {
                    "Or": [
                        {"Variable": f"$.Preflight.{writer}.Status", "StringEquals": "FAILED"} for writer in writers
                    ],
                    "Next": OUTPUTS,
                }
            ],
            "Default": then,
        },
    }


def definition() -> dict[str, Any]:
    converging = steps.writers_in_order(Mode.APPLY)
    removing = steps.writers_in_order(Mode.REMOVE)
    first_writer, second_writer = converging
    remove_first, remove_second = removing
    remove = {step: f"{steps.REMOVE_PREFIX}{step}" for step in steps.REMOVE}
    states: dict[str, Any] = {
        steps.DISCOVER: task(
            steps.DISCOVER,
            "Management account, trail key, bucket region. Reads only.",
            result_path=f"$.{steps.DISCOVER}",
            catch=caught(OUTPUTS),
            then="RemoveOrConverge",
        ),
        "RemoveOrConverge": {
            "Type": "Choice",
            "Comment": "remove takes our entries out in reverse order and skips Verify.",
            "Choices": [{"Variable": "$.Mode", "StringEquals": "remove", "Next": "RemovePreflight"}],
            "Default": steps.OWNERSHIP,
        },
        **preflight("RemovePreflight", removing, remove[remove_first]),
        steps.OWNERSHIP: task(
            steps.OWNERSHIP,
            "Step 3 of Expel's Control Tower guide: bucket-owned log objects.",
            result_path=f"$.{steps.OWNERSHIP}",
            catch=caught(OUTPUTS),
            then="CheckOrPreflight",
        ),
        "CheckOrPreflight": {
            "Type": "Choice",
            "Comment": "check writes nothing, so it needs no preflight.",
            "Choices": [{"Variable": "$.Mode", "StringEquals": "check", "Next": first_writer}],
            "Default": "Preflight",
        },
        **preflight("Preflight", converging, first_writer),
        steps.KEY_POLICY: task(
            steps.KEY_POLICY,
            "Step 2 of Expel's Control Tower guide: our kms:Decrypt statement in the CloudTrail key policy.",
            result_path=f"$.{steps.KEY_POLICY}",
            catch=caught(OUTPUTS),
            then=second_writer,
        ),
        steps.NOTIFICATION: task(
            steps.NOTIFICATION,
            "Step 8 of Expel's Control Tower guide: deliver log-object events to our topic: our ObjectCreated "
            "entry on the log bucket (bucket-notification), or the relay subscribed to the trail topic "
            "(trail-topic).",
            result_path=f"$.{steps.NOTIFICATION}",
            catch=caught(f"{steps.UNDO_PREFIX}{first_writer}"),
            then="DeliveryRefused",
        ),
        "DeliveryRefused": {
            "Type": "Choice",
            "Comment": "A refused delivery (an explicit deny on the bucket, a topic owner's refusal) is "
            "ACTION_REQUIRED, not a failure; no events will come, so the run takes back a key statement it added "
            "and leaves both documents as they were. The Notification function always sets Data.Refused.",
            "Choices": [
                {
                    "Variable": f"$.{steps.NOTIFICATION}.Data.Refused",
                    "BooleanEquals": True,
                    "Next": f"{steps.UNDO_PREFIX}{first_writer}",
                }
            ],
            "Default": steps.VERIFY,
        },
        steps.VERIFY: task(
            steps.VERIFY,
            "Workbench can read: subscription, role trust, our entries.",
            result_path=f"$.{steps.VERIFY}",
            catch=caught(OUTPUTS),
            then=OUTPUTS,
        ),
        f"{steps.UNDO_PREFIX}{first_writer}": task(
            first_writer,
            "Notification failed or was refused after KeyPolicy wrote: take out the statement this run added, so "
            "the policy's text is as it was.",
            phase=steps.Phase.UNDO,
            result_path=f"$.{steps.UNDO_PREFIX}{first_writer}",
            catch=caught(OUTPUTS, "$.UndoFailure"),
            then=OUTPUTS,
        ),
        remove[remove_first]: task(
            remove_first,
            "Remove our notification entry, nothing else.",
            result_path=f"$.{remove_first}",
            catch=caught(OUTPUTS),
            then=remove[remove_second],
        ),
        remove[remove_second]: task(
            remove_second,
            "Remove our key-policy statement, nothing else.",
            result_path=f"$.{remove_second}",
            catch=caught(f"{steps.UNDO_PREFIX}{remove_first}"),
            then=remove[steps.OWNERSHIP],
        ),
        remove[steps.OWNERSHIP]: task(
            steps.OWNERSHIP,
            "Ownership is never reverted; reported for completeness.",
            result_path=f"$.{steps.OWNERSHIP}",
            catch=caught(OUTPUTS),
            then=OUTPUTS,
        ),
        f"{steps.UNDO_PREFIX}{remove_first}": task(
            remove_first,
            "KeyPolicy failed after Notification removed our entry or subscription: put it back, so the failed "
            "run leaves the bucket as it was.",
            phase=steps.Phase.UNDO,
            result_path=f"$.{steps.UNDO_PREFIX}{remove_first}",
            catch=caught(OUTPUTS, "$.UndoFailure"),
            then=OUTPUTS,
        ),
        OUTPUTS: task(
            OUTPUTS,
            "The Workbench values and the step table, for success and failure alike; publishes drift metrics.",
            retry=OUTPUTS_RETRIES,
            then="FailedOrDone",
        ),
        "FailedOrDone": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.Failed", "BooleanEquals": True, "Next": FAILED}],
            "Default": DONE,
        },
        FAILED: {"Type": "Fail", "Error": "StepFailed", "CausePath": "$.FailureCause"},
        DONE: {"Type": "Succeed"},
    }
    return {
        "Comment": "Connects the Control Tower organization trail to Expel Workbench. Deploy (apply), check, "
        "repair and remove all run this one workflow.",
        "StartAt": steps.DISCOVER,
        "TimeoutSeconds": 480,
        "States": states,
    }


def text() -> str:
    return json.dumps(definition(), indent=2) + "\n"


if __name__ == "__main__":
    DEFINITION.write_text(text(), encoding="utf-8")
    print(f"wrote {DEFINITION.relative_to(ROOT)}")
