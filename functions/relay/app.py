"""Relay: CloudTrail's delivery messages from the relay queue, republished on our topic as S3 events."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, relay
from expel_onboarding.settings import settings

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def relay_record(record: SQSRecord) -> None:
    where = {"message_id": record.message_id}
    try:
        target = settings().relay_target()
        sent = int(record.attributes.sent_timestamp)
        outcome = relay.relay(clients.s3(), clients.sns(), target, record.body, sent)
    except Exception:
        logger.exception("record not relayed; the queue will deliver it again", extra=where)
        # Lambda's own Errors counts only a batch that failed whole: a record that failed alone is counted here.
        metrics.add_metric(name="RecordsNotRelayed", unit=MetricUnit.Count, value=1)
        raise
    for skipped in outcome.skipped:
        logger.warning("object skipped", extra={**where, "key": skipped.key, "reason": skipped.reason})
    stale = sum(1 for skipped in outcome.skipped if skipped.stale)
    if stale:
        metrics.add_metric(name="StaleObjectsSkipped", unit=MetricUnit.Count, value=stale)
    logger.info("record relayed", extra={**where, "published": len(outcome.published)})


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # One bad record fails only itself: ReportBatchItemFailures hands just that one back to the queue.
    return process_partial_response(event=event, record_handler=relay_record, processor=processor, context=context)
