"""The one fake Lambda context: what the handlers and Powertools read of the real one.

The in-process Lambda runtime makes one per invocation, counting down to the function's timeout; the
tests and make bench make theirs with a fixed remaining time, so a context made at import time does not
run out while the suite runs.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeContext:
    function_name: str = "onboarding-step"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:onboarding-step"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 120_000
    deadline: float | None = None  # a time.monotonic() value; when set, the remaining time counts down to it

    @classmethod
    def of(cls, function: Any) -> FakeContext:
        """The context moto's function (moto.awslambda.models.LambdaFunction) gets in Lambda: its name,
        memory and ARN, and its timeout counting down from now."""
        return cls(
            function_name=str(function.function_name),
            memory_limit_in_mb=int(function.memory_size),
            invoked_function_arn=str(function.function_arn),
            deadline=time.monotonic() + float(function.timeout),
        )

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline is None:
            return self.remaining_ms
        return max(0, int((self.deadline - time.monotonic()) * 1000))
