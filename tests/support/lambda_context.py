"""What the handlers and Powertools read of a Lambda context, and crhelper's answers to CloudFormation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from crhelper import CfnResource


@dataclass
class FakeContext:
    function_name: str = "onboarding-step"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:onboarding-step"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining_ms: int = 120_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def capture_responses(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What crhelper would PUT to the pre-signed ResponseURL, in order."""
    sent: list[dict[str, Any]] = []

    def capture(self: CfnResource, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        sent.append(
            {
                "Status": status or self.Status,
                "Reason": reason if status else self.Reason,
                "PhysicalResourceId": str(self.PhysicalResourceId),
                "Data": dict(self.Data),
            }
        )

    monkeypatch.setattr(CfnResource, "_send", capture)
    return sent
