"""crhelper's answers to CloudFormation, captured instead of sent to the pre-signed ResponseURL."""

from __future__ import annotations

from typing import Any

import pytest
from crhelper import CfnResource


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
