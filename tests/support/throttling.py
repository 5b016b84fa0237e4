"""Throttles that outlast botocore's retries, for the throttling matrix.

botocore's standard mode retries a throttle itself (expel_onboarding.clients.RETRIES: 5 attempts, with
backoff); when AWS keeps throttling, the code gets botocore's final answer: that same throttle. An armed
Throttle hands that final answer to the first `times` calls of one operation, made by any client of the
session it is armed on (the product's clients inside every local function use boto3's default session), at
botocore's before-call event, so no wait is spent on the retries themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from expel_onboarding.errors import THROTTLING_CODES, THROTTLING_STATUS

# Every code botocore calls a throttle, and a 429 without one of them (Lambda's TooManyRequestsException is
# both; a 429 with another code stands for the rest).
CODES = (*sorted(THROTTLING_CODES), "429")


def status_of(code: str) -> int:
    """The HTTP status AWS answers a throttle with: 429 for Lambda's and the bare case, 503 for S3's SlowDown."""
    return {"429": THROTTLING_STATUS, "TooManyRequestsException": THROTTLING_STATUS, "SlowDown": 503}.get(code, 400)


def answer(code: str) -> tuple[AWSResponse, dict[str, Any]]:
    status = status_of(code)
    shown = "TooManyRequests" if code == "429" else code
    parsed = {
        "Error": {"Code": shown, "Message": "Rate exceeded"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "throttled"},
    }
    return AWSResponse("https://throttled.example", status, {}, None), parsed


@dataclass
class Throttle:
    operation: str  # as AwsCalls names it: "kms:PutKeyPolicy", the service as botocore names it
    code: str
    times: int = 1
    met: int = 0
    only: str = ""  # when given, only the calls whose request's path names this (a function's name, say)

    def arm(self, session: boto3.Session | None = None) -> Throttle:
        """Throttle the calls of every client made on session (boto3's default one) from now on."""
        (session or boto3.DEFAULT_SESSION or boto3.Session()).events.register("before-call", self._answer)
        return self

    def arm_client(self, client: Any) -> Any:
        """Throttle this one client's calls (a client made on a session of its own, as the CLI's are)."""
        client.meta.events.register("before-call", self._answer)
        return client

    def _answer(self, model: Any, params: Any = None, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if f"{model.service_model.service_name}:{model.name}" != self.operation or self.met >= self.times:
            return None
        if self.only and self.only not in str((params or {}).get("url_path", "")):
            return None
        self.met += 1
        return answer(self.code)
