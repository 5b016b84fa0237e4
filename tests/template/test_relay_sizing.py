"""The relay's sizing in template.yaml, held to AWS's guidance and to the figures the feed's load formulas
(expel_onboarding_cli.feed_load) state for it."""

from __future__ import annotations

from typing import Any

from expel_onboarding_cli import feed_load, prices

SIX_TIMES = 6  # Lambda's SQS guide: the queue's visibility timeout at least six times the function's timeout


def relay_events(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"]["RelayFunction"]["Properties"]["Events"]["TrailMessages"]["Properties"])


def test_the_relay_queue_outlasts_six_timeouts_and_the_batching_window(template: dict[str, Any]) -> None:
    function = template["Resources"]["RelayFunction"]["Properties"]
    visibility = template["Resources"]["RelayQueue"]["Properties"]["VisibilityTimeout"]
    window = relay_events(template)["MaximumBatchingWindowInSeconds"]
    assert visibility >= SIX_TIMES * function["Timeout"] + window


def test_batches_and_the_concurrency_cap_are_the_ones_the_load_formulas_use(template: dict[str, Any]) -> None:
    events = relay_events(template)
    assert events["BatchSize"] == feed_load.RELAY_BATCH
    assert events["ScalingConfig"]["MaximumConcurrency"] == feed_load.RELAY_MAXIMUM_CONCURRENCY
    assert events["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # SQS's in-flight limit stays out of reach at the cap: every execution holds at most one batch.
    assert feed_load.RELAY_MAXIMUM_CONCURRENCY * feed_load.RELAY_BATCH < prices.SQS_IN_FLIGHT_LIMIT / 10
    # An Event source mapping's cap is 2 to 1,000 (Lambda API reference, ScalingConfig).
    assert 2 <= events["ScalingConfig"]["MaximumConcurrency"] <= 1000


def test_the_relays_memory_is_the_one_its_cost_uses(template: dict[str, Any]) -> None:
    function = template["Resources"]["RelayFunction"]["Properties"]
    memory = function.get("MemorySize", template["Globals"]["Function"]["MemorySize"])
    assert memory / 1024 == feed_load.RELAY_MEMORY_GB
    assert function.get("Architectures", template["Globals"]["Function"]["Architectures"]) == ["arm64"]
