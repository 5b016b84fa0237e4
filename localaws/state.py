"""What outlives a moto reset in this process, and the one reset() that clears it."""

from __future__ import annotations

from localaws import product_clients
from localaws.service_gaps import forget_organizations


def reset() -> None:
    """The product's settings, its clients unless they were made on the session kept for this AWS
    environment (localaws.product_clients), and moto's map of member accounts to organizations: call it
    before and after each local AWS or mock."""
    product_clients.forget_unless_kept()
    forget_organizations()
