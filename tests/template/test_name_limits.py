"""Every name derived from the stack's name fits its service's limit, for the longest legal stack name."""

from __future__ import annotations

import re
from typing import Any

import pytest

LONGEST_STACK_NAME = "s" * 128  # CloudFormation's limit for a stack name
# Each named property's limit, from each service's API reference (CreateTopic, CreateAlias,
# CreateLogGroup, PutMetricAlarm, CreateQueue).
LIMITS = {
    ("AWS::SNS::Topic", "TopicName"): 256,
    ("AWS::KMS::Alias", "AliasName"): 256,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    ("AWS::SQS::Queue", "QueueName"): 80,
}


def derived_names(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for logical_id, resource in template["Resources"].items():
        for (kind, prop), _ in LIMITS.items():
            value = resource.get("Properties", {}).get(prop) if resource["Type"] == kind else None
            if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
                found.append((logical_id, prop, value["Fn::Sub"]))
    return found


def test_every_named_resource_is_checked(template: dict[str, Any]) -> None:
    assert len(derived_names(template)) >= 12


@pytest.mark.parametrize("kind", sorted({kind for kind, _ in LIMITS}))
def test_derived_names_fit_for_the_longest_stack_name(template: dict[str, Any], kind: str) -> None:
    for logical_id, prop, pattern in derived_names(template):
        if template["Resources"][logical_id]["Type"] != kind:
            continue
        name = re.sub(r"\$\{AWS::StackName\}", LONGEST_STACK_NAME, pattern)
        assert "${" not in name, (logical_id, name)
        assert len(name) <= LIMITS[(kind, prop)], (logical_id, len(name))


def test_no_queue_is_named_after_the_stack(template: dict[str, Any]) -> None:
    # A stack name over 61 characters would overflow SQS's 80 with a suffix: CloudFormation names them.
    queues = [r for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]
    assert queues
    assert all("QueueName" not in queue["Properties"] for queue in queues)
