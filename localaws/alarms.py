"""Gap: moto stores CloudWatch alarms but never evaluates them.

CloudWatch evaluates an alarm every period against its metric: the last EvaluationPeriods periods, of which
DatapointsToAlarm must breach, with TreatMissingData deciding what a period without data counts as
(Amazon CloudWatch user guide, "Using Amazon CloudWatch alarms", "Configuring how CloudWatch alarms treat
missing data"). Here an alarm is evaluated when a test asks, at the local clock's time (localaws.clock),
over the datapoints the local AWS recorded (localaws.service_metrics), and its state is set as CloudWatch
would set it. Periods end at the evaluation time rather than on the clock's period boundaries, and there is
no evaluation delay: an alarm flips as soon as the periods say so, never later than CloudWatch would.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from localaws import clock

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "Maximum": max,
    "Minimum": min,
    "Average": lambda values: sum(values) / len(values),
    "SampleCount": len,
}


def _values(backend: Any, alarm: Any, start: datetime, end: datetime) -> list[float]:
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    return [
        float(datum.value)
        for datum in backend.get_all_metrics()
        if datum.namespace == alarm.namespace
        and datum.name == alarm.metric_name
        and {(d.name, d.value) for d in datum.dimensions} == wanted
        and start <= _aware(datum.timestamp) < end
    ]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.now().tzinfo)


def state_of(alarm: Any, now: datetime, backend: Any) -> str:
    """ALARM or OK, as CloudWatch would judge the alarm's last periods at now."""
    period = timedelta(seconds=int(alarm.period))
    evaluated = int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or evaluated)
    missing_breaches = (alarm.treat_missing_data or "missing") == "breaching"
    breaching = 0
    for index in range(evaluated):
        values = _values(backend, alarm, now - (index + 1) * period, now - index * period)
        if not values:
            breaching += missing_breaches
            continue
        value = STATISTICS[str(alarm.statistic)](values)
        breaching += COMPARE[str(alarm.comparison_operator)](value, float(alarm.threshold))
    return "ALARM" if breaching >= needed else "OK"


def evaluate(account: str, region: str, names: list[str] | None = None) -> dict[str, str]:
    """Each alarm's state at the local clock's now (all of them, or those named), set on the alarm."""
    backend = cloudwatch_backends[account][region]
    states = {}
    for name, alarm in backend.alarms.items():
        if names is not None and name not in names:
            continue
        states[name] = state_of(alarm, clock.now(), backend)
        if alarm.state_value != states[name]:
            backend.set_alarm_state(name, f"Evaluated at {clock.now():%H:%M} UTC", "{}", states[name])
    return states
