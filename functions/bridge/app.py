"""Custom::Onboarding: CloudFormation's way into the onboarding state machine.

Create and Update run it in apply mode and hand the Workbench values back as Data; Delete runs it
in remove mode. The Lambda waits for the run itself, so crhelper's polling is never used.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from crhelper import CfnResource

from expel_onboarding import clients, custom_resource, workflow
from expel_onboarding.errors import RunFailed
from expel_onboarding.reports import Mode
from expel_onboarding.settings import settings

logger = Logger()
# INFO, never DEBUG: crhelper would log the whole event, pre-signed ResponseURL included.
helper = CfnResource(json_logging=False, log_level="INFO", boto_level="CRITICAL", sleep_on_delete=0)


def run(mode: Mode, override: dict[str, str], event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sfn = clients.sfn()
    # The request id names the run, so a redelivered request waits on the same run instead of a second one.
    name = f"{event['RequestType'].lower()}-{event['RequestId']}"[:80]
    run_input = {"Mode": mode.value, "Override": override}
    execution = workflow.start(sfn, custom_resource.bridge_settings().state_machine_arn, run_input, name)
    logger.info("run started", extra={"execution": execution, "mode": mode, "override": override})
    budget = context.get_remaining_time_in_millis() / 1000 - custom_resource.REPORT_MARGIN_SECONDS
    try:
        description = workflow.wait(sfn, execution, timeout_seconds=budget)
        # Never report while a step of the run may still be writing: CloudFormation would act on it.
        workflow.let_running_steps_finish(description, custom_resource.STEP_TIMEOUT_SECONDS)
        return workflow.result(description)
    except RunFailed as failed:
        # crhelper keeps only the last 240 characters of a long message; we keep the cause's start.
        raise RunFailed(failed.reason()) from failed


@helper.create
@helper.update
def converge(event: dict[str, Any], context: LambdaContext) -> str:
    summary = run(Mode.APPLY, {}, event, context)
    helper.Data.update(custom_resource.workbench_values(summary))
    return custom_resource.current_physical_id(settings())


@helper.delete
def remove(event: dict[str, Any], context: LambdaContext) -> None:
    # A failed create's rollback Delete carries the physical id crhelper made up, but the create may have
    # written before it failed (the key statement comes before the notification). Our entries are marked
    # by the stack's own Sid and Id, so removal is safe whatever the id says.
    summary = run(Mode.REMOVE, custom_resource.moved(event["ResourceProperties"], settings()), event, context)
    remaining = summary.get("Remaining") or []
    if remaining:
        # The run, its log and this function go with the stack: the Delete's Reason is what outlives them.
        helper.Reason = custom_resource.left_in_place(remaining)
        logger.warning("left in place", extra={"left_in_place": remaining})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    helper(event, context)
