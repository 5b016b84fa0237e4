"""Counting AWS calls with botocore's event hooks: the tests assert on them, make bench prints them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3

from localaws import product_clients

WRITE_PREFIXES = (
    "Put", "Create", "Delete", "Update", "Set", "Enable", "Disable", "Attach", "Detach", "Remove", "Add",
    "Subscribe", "Unsubscribe", "ConfirmSubscription", "Publish",
)  # fmt: skip


@dataclass
class AwsCalls:
    """Every API call made by clients created after start(), as 'service:Operation'."""

    made: list[str] = field(default_factory=list)
    landed: list[str] = field(default_factory=list)  # the calls AWS answered with success

    def start(self) -> AwsCalls:
        """Count from now on: a new default session, and the product's cached clients made anew on it."""
        session = boto3.DEFAULT_SESSION = boto3.Session()
        session.events.register("before-call", self._record)
        session.events.register("after-call", self._record_landed)
        product_clients.made_on(session)
        return self

    def _record(self, model: Any, **_: Any) -> None:
        self.made.append(f"{model.service_model.service_name}:{model.name}")

    def _record_landed(self, model: Any, http_response: Any, **_: Any) -> None:
        if getattr(http_response, "status_code", 500) < 300:
            self.landed.append(f"{model.service_model.service_name}:{model.name}")

    @property
    def writes(self) -> list[str]:
        return [call for call in self.made if call.split(":", 1)[1].startswith(WRITE_PREFIXES)]

    @property
    def landed_writes(self) -> list[str]:
        """The writes that took effect: a throttled or refused one changed nothing."""
        return [call for call in self.landed if call.split(":", 1)[1].startswith(WRITE_PREFIXES)]

    def count(self) -> Counter[str]:
        return Counter(self.made)

    def clear(self) -> None:
        self.made.clear()
        self.landed.clear()
