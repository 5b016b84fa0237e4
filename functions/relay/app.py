"""Relay: CloudTrail's delivery messages from the relay queue, republished on our topic as S3 events."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from expel_onboarding import clients, relay
from expel_onboarding.errors import PublishThrottled
from expel_onboarding.settings import settings

logger = Logger()
metrics = Metrics()
# A batch whose every record failed (SNS throttling all of them) is answered with each record as a failure,
# as any other partial failure, rather than as an error of the whole invocation: the queue hands them back
# the same way, and Lambda's Errors metric keeps meaning a crash.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def relay_record(record: SQSRecord, backoff: relay.Backoff | None = None) -> None:
    where = {"message_id": record.message_id}
    try:
        target = settings().relay_target()
        sent = int(record.attributes.sent_timestamp)
        outcome = relay.relay(clients.s3(), clients.sns(), target, record.body, sent, backoff)
    except PublishThrottled:
        logger.warning("record handed back: SNS is throttling; the queue will deliver it again", extra=where)
        metrics.add_metric(name="RecordsDeferredByThrottling", unit=MetricUnit.Count, value=1)
        raise
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
    # One backoff per invocation: once SNS throttled past it, the batch's later records are handed back untried.
    backoff = relay.Backoff(seconds_left=lambda: context.get_remaining_time_in_millis() / 1000)
    handler = partial(relay_record, backoff=backoff)
    # One bad record fails only itself: ReportBatchItemFailures hands just that one back to the queue.
    return process_partial_response(event=event, record_handler=handler, processor=processor, context=context)
