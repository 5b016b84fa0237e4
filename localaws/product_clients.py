"""The product's cached clients (expel_onboarding.clients) in a process that plays many functions and tests.

A Lambda container keeps its clients from one invocation to the next. Here they are kept the same way,
across invocations and across tests, for as long as the boto3 session they are made on and the AWS
environment (credentials, region, endpoint) stay the same; otherwise they are forgotten, so a client is
always one that would be made now. Making them anew at each test was about 6 s of the suite's CPU.

The session matters as well as the environment: localaws hooks its request headers (the account to act
as) into the session it keeps, and AwsCalls counts calls on a session of its own.
"""

from __future__ import annotations

import threading
import weakref

import boto3

from expel_onboarding import caches
from localaws import clients

_LOCK = threading.Lock()
# The session and AWS environment the product's cached clients were made on, while there may be any.
_MADE_ON: dict[str, tuple[weakref.ref[boto3.Session], tuple[str | None, ...]]] = {}


def _made_on(session: boto3.Session | None) -> bool:
    if session is None or "clients" not in _MADE_ON:
        return False
    made_on, environment = _MADE_ON["clients"]
    return made_on() is session and environment == clients.aws_environment()


def made_on(session: boto3.Session | None) -> None:
    """The product's clients are made on session from now on (boto3's default session, when a function
    runs): forget those made on another session or in another AWS environment. Settings are always read
    again, as each function reads its own."""
    with _LOCK:
        caches.reset(keep_clients=_made_on(session))
        _MADE_ON.clear()
        if session is not None:
            _MADE_ON["clients"] = (weakref.ref(session), clients.aws_environment())


def forget_unless_kept() -> None:
    """Between tests: keep the product's clients only if the session they were made on is one
    localaws.clients still keeps. The environment is checked by the next made_on(), inside the next mock:
    moto's mock sets credentials of its own, so the environment outside it is not the one inside."""
    with _LOCK:
        made = _MADE_ON.get("clients")
        keep = made is not None and clients.is_kept(made[0]())
        caches.reset(keep_clients=keep)
        if not keep:
            _MADE_ON.clear()
