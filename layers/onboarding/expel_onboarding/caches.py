"""Every cache the product keeps for the life of a Lambda container, and the one way to forget them.

In Lambda a container runs one function, so its settings and clients never change under it. A process
that plays many functions one after another (the tests, make bench, an in-process Lambda runtime)
calls reset() between them, so each sees its own environment and endpoint.
"""

from __future__ import annotations

from expel_onboarding import clients, custom_resource, delegate, settings

# The cached functions besides the clients (clients.reset() forgets those). A test lists every
# functools cache in the package against this, so a new one cannot be missed here.
CACHED = (settings.settings, custom_resource.bridge_settings, delegate.config)


def reset(keep_clients: bool = False) -> None:
    """keep_clients: only when the next function sees the same AWS environment (credentials, region,
    endpoint) as the clients were made in; its own settings are always read again."""
    for cached in CACHED:
        cached.cache_clear()
    if not keep_clients:
        clients.reset()
