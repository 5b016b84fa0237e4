"""One reset() forgets every cache the product keeps: a cache it does not list would leak one function's
settings or endpoint into the next function that a process plays (the tests, the local AWS)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import expel_onboarding
from expel_onboarding import caches, clients, settings


def product_caches() -> set[object]:
    found: set[object] = set()
    for module_info in pkgutil.iter_modules(expel_onboarding.__path__):
        if module_info.name == "__main__":  # the CLI's entry point: importing it runs the CLI
            continue
        module = importlib.import_module(f"expel_onboarding.{module_info.name}")
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)) and value.__module__ == module.__name__:
                found.add(value)
    return found


def test_reset_lists_every_cache_of_the_package_besides_the_clients() -> None:
    client_factories = {value for value in product_caches() if value.__module__ == clients.__name__}
    assert product_caches() - client_factories == set(caches.CACHED)


def fill_every_cache(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    for name in settings.VARIABLES:
        monkeypatch.setenv(name, "arn:aws:kms:us-east-1:111111111111:key/k")
    for name in ("DELIVERY_MODE", "REQUESTED_DELIVERY_MODE"):
        monkeypatch.setenv(name, "auto")
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:onboarding")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name in ("EXPEL_ROLE_ARN", "LOG_ARCHIVE_ACCOUNT_ID"):
        monkeypatch.setenv(name, "x")
    filled = [*caches.CACHED, clients.s3]
    for cached in filled:
        cached()  # type: ignore[operator]
    assert all(cached.cache_info().currsize == 1 for cached in filled)  # type: ignore[attr-defined]
    return filled


def test_reset_empties_every_cache_it_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    filled = fill_every_cache(monkeypatch)
    caches.reset()
    assert [cached.cache_info().currsize for cached in filled] == [0] * len(filled)  # type: ignore[attr-defined]


def test_keeping_the_clients_still_forgets_every_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    fill_every_cache(monkeypatch)
    caches.reset(keep_clients=True)
    assert [cached.cache_info().currsize for cached in caches.CACHED] == [0] * len(caches.CACHED)
    assert clients.s3.cache_info().currsize == 1
