"""Not gaps: what the emulator itself spends, cut without changing anything it answers.

- moto's KMS makes a 2048-bit RSA key for every CreateKey (about 90 ms), symmetric keys included,
  which never use it (KMS refuses Sign, Verify and GetPublicKey on them). Those share one.
- moto's CloudFormation reads every template body with PyYAML's pure-Python loader first (half a
  second for ours, on each CreateStack and UpdateStack), and only then as JSON. The local deploys send
  JSON, which YAML reads the same: JSON is tried first.
- Not moto's but the tests': each starts a fresh boto3 session (credentials and region come from its
  own environment), and botocore's loader caches the service models it parses from JSON per session,
  so every test parsed them again (a seeded landing zone took 0.31 s, 0.14 s with this). The files
  never change while a process runs, so the parsed models are kept per search path for the process,
  as one session already shares them between its clients.
- botocore works out each event name's alias (its 30 aliases, tried one by one) once per emitter, and
  every session and every client has its own: a tenth of the suite's botocore time went there. The
  answer depends only on the name and the alias table, so it is kept per name for the default table.
- Every start of moto's mock builds a `requests` mock (responses' CallbackResponse) for each URL pattern
  of each service and method: about 4 ms per test. They are the same every time, so they are made once
  and registered again at each start.
- moto's dispatch lists every function of the service's response class (inspect.getmembers, 0.2 ms) at
  every request, only to ask whether the action is one of them. That is asked of the class directly, so
  a method a gap adds or removes while a request is served is seen as before.
- moto's server lists its own package folder (200 stat calls) at every request, to ask whether the Host
  header names a service. The folder does not change while a process runs: it is listed once.
- moto's mock builds each request's service's URL table anew (its `urls`, the TODO in its
  botocore_stubber says so), and S3's reloads moto.s3.urls to do it: a tenth of an S3 call. The table
  depends only on the backend's class and two variables (S3's custom endpoints, the ISO regions), so it
  is kept per those.
- moto's threaded server (werkzeug's) looks for a stop request every half second, socketserver's default,
  so each stop of a local AWS waited a quarter of a second on average, idle. It looks every 50 ms.

localaws.replacements applies them (and Step Functions' own, localaws.step_functions_speedups): service_gaps.filled()
enters them, so the tests, make bench and the local server all run with them, unless LOCALAWS_SPEEDUPS=off.
"""

from __future__ import annotations

import inspect
import json
import os
from functools import cache
from typing import Any

from botocore import hooks, loaders
from moto import backends
from moto import settings as moto_settings
from moto.cloudformation.models import Stack
from moto.core import models as core_models
from moto.core.base_backend import BaseBackend
from moto.kms import models as kms_models
from moto.kms.utils import KeySpec
from werkzeug.serving import BaseWSGIServer

_ORIGINAL_PRIVATE_KEY = kms_models.generate_private_key  # type: ignore[attr-defined]
_PARSE_TEMPLATE = Stack.parse_template
_LOAD_SERVICE_MODEL = loaders.Loader.load_service_model
_LOAD_DATA_WITH_PATH = loaders.Loader.load_data_with_path
_ALIAS_EVENT_NAME = hooks.EventAliaser._alias_event_name  # type: ignore[attr-defined]
_CALLBACK_RESPONSE = core_models.CallbackResponse  # type: ignore[attr-defined]
_LIST_OF_MOTO_MODULES = backends.list_of_moto_modules
_URLS = BaseBackend.urls
_SERVE_FOREVER = BaseWSGIServer.serve_forever
SERVER_POLL_SECONDS = 0.05
_ASYMMETRIC = {KeySpec.RSA_2048, KeySpec.RSA_3072, KeySpec.RSA_4096, *KeySpec.ecc_key_specs()}


@cache
def _shared_private_key() -> Any:
    return _ORIGINAL_PRIVATE_KEY(KeySpec.RSA_2048)


def _private_key(key_spec: str) -> Any:
    return _ORIGINAL_PRIVATE_KEY(key_spec) if key_spec in _ASYMMETRIC else _shared_private_key()


def _parse_template(template: str) -> dict[str, Any]:
    try:
        parsed = json.loads(template)
    except ValueError:
        return _PARSE_TEMPLATE(template)
    return parsed if isinstance(parsed, dict) else _PARSE_TEMPLATE(template)


_MODELS: dict[tuple[Any, ...], Any] = {}


def _kept(kind: str, load: Any) -> Any:
    """load (a Loader method), its result kept per search path and arguments for the process."""

    def kept(self: loaders.Loader, *args: Any, **kwargs: Any) -> Any:
        key = (kind, tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
        if key not in _MODELS:
            _MODELS[key] = load(self, *args, **kwargs)
        return _MODELS[key]

    return kept


_ALIASES: dict[str, str] = {}


def _alias_event_name(self: hooks.EventAliaser, event_name: str) -> str:
    if self._event_aliases != hooks.EVENT_ALIASES:  # type: ignore[attr-defined]
        return str(_ALIAS_EVENT_NAME(self, event_name))
    if event_name not in _ALIASES:
        _ALIASES[event_name] = _ALIAS_EVENT_NAME(self, event_name)
    return _ALIASES[event_name]


@cache
def _callback_response(method: str, url: Any, callback: Any) -> Any:
    return _CALLBACK_RESPONSE(method=method, url=url, callback=callback)


class _Functions:
    """moto's method_names_from_class(clazz), for its one use: `action in` it. getmembers names what dir()
    lists whose getattr is a function; dir() lists every attribute getattr finds on a class without a
    metaclass of its own, as moto's response classes are."""

    def __init__(self, clazz: type) -> None:
        self._clazz = clazz

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self._clazz, name, None))


@cache
def _list_of_moto_modules() -> tuple[str, ...]:
    return tuple(_LIST_OF_MOTO_MODULES())


_URL_TABLES: dict[tuple[type, str | None, bool], Any] = {}


def _urls(self: BaseBackend) -> Any:
    key = (type(self), os.environ.get("MOTO_S3_CUSTOM_ENDPOINTS"), moto_settings.enable_iso_regions())
    if key not in _URL_TABLES:
        _URL_TABLES[key] = _URLS.fget(self)  # type: ignore[attr-defined]
    return _URL_TABLES[key]


def _serve_forever(self: BaseWSGIServer, poll_interval: float = SERVER_POLL_SECONDS) -> None:
    _SERVE_FOREVER(self, poll_interval=poll_interval)


# The values localaws.replacements puts in place (its registry names each one's target).
PARSE_TEMPLATE = staticmethod(_parse_template)
KEPT_SERVICE_MODELS = _kept("model", _LOAD_SERVICE_MODEL)
KEPT_DATA = _kept("data", _LOAD_DATA_WITH_PATH)
URLS = property(_urls)


def kept_json_files(load_file: Any) -> Any:
    """botocore's JSONFileLoader.load_file, each file parsed once by path, for a process that serves many commands
    (tests/support/forked_commands.py): a quarter of what a command spends making its clients. A file on another
    search path has a path of its own, read from disk as before."""
    kept: dict[str, object] = {}

    def kept_file(self: Any, file_path: str) -> object:
        if file_path not in kept:
            kept[file_path] = load_file(self, file_path)
        return kept[file_path]

    return kept_file
