"""Every error the onboarding raises, in one place.

Step Functions' Retry and Catch match on the Lambda error type, which is the class name, so these
names are a stable interface: never rename one, and never branch on message text.
"""

from __future__ import annotations


class OnboardingError(Exception):
    """A problem the customer must act on. The message says what was found and the exact fix."""

    def __init__(self, found: str, fix: str) -> None:
        super().__init__(f"{found} To fix it: {fix}")
        self.found = found
        self.fix = fix
