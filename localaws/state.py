"""What outlives a moto reset in this process, and the one reset() that clears it."""

from __future__ import annotations

from expel_onboarding import caches
from localaws.service_gaps import forget_organizations


def reset() -> None:
    """The product's caches (settings and clients made for the last environment and endpoint) and moto's
    map of member accounts to organizations: call it before and after each local AWS or mock."""
    caches.reset()
    forget_organizations()
