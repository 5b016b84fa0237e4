"""Outputs: the Workbench values and the step table for every run, and the drift metrics."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding.reports import Mode, Status
from expel_onboarding.settings import settings
from expel_onboarding.summary import count, summarize

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    summary = summarize(event, settings())
    mode = Mode(summary["Mode"]) if summary["Mode"] in set(Mode) else None
    # A repair that changed something found drift too: the alarm watches DriftedSteps in both modes.
    drifted = count(summary, Status.DRIFTED) if mode is Mode.CHECK else count(summary, Status.CHANGED)
    if mode in (Mode.CHECK, Mode.REPAIR):
        metrics.add_metric(name="DriftedSteps", unit=MetricUnit.Count, value=drifted)
    if mode is Mode.REPAIR:
        metrics.add_metric(name="RepairedSteps", unit=MetricUnit.Count, value=count(summary, Status.CHANGED))
    metrics.add_metric(name="FailedRuns", unit=MetricUnit.Count, value=int(summary["Failed"]))
    logger.info("run finished", extra={"mode": mode, "changed": summary["Changed"], "failed": summary["Failed"]})
    return summary
