"""The by-hand removal commands a failed removal prints: their jq filters take out ours and only ours."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest

from expel_onboarding import notification
from expel_onboarding.notification import Target

TARGET = Target("logs", "123456789012", "ExpelOnboardingA1B2C3D4E5F6", "arn:aws:sns:us-east-1:1:t", "AWSLogs/")


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed here")
def test_the_notification_removal_filter_keeps_every_other_entry_and_setting() -> None:
    ours = notification.our_entry(TARGET)
    theirs = {"Id": "siem", "QueueArn": "arn:aws:sqs:us-east-1:1:q", "Events": ["s3:ObjectRemoved:*"]}
    config = {
        "ResponseMetadata": {"HTTPStatusCode": 200},
        "TopicConfigurations": [ours],
        "QueueConfigurations": [theirs],
        "EventBridgeConfiguration": {},
    }
    command = notification.removal_command(TARGET)
    jq_part = command.split(" | ", 1)[1].split(" > ", 1)[0]
    argv = shlex.split(jq_part)
    result = subprocess.run(argv, input=json.dumps(config), capture_output=True, text=True, check=True)  # noqa: S603
    assert json.loads(result.stdout) == {
        "TopicConfigurations": [],
        "QueueConfigurations": [theirs],
        "EventBridgeConfiguration": {},
    }
