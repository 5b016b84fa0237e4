"""Not gaps: what moto's Step Functions interpreter spends, cut without changing what a run does.

- It lexes and parses the whole ASL definition with ANTLR, then builds its evaluation components from
  the tree, at every CreateStateMachine and again at every execution (about 0.2 s of CPU each for ours,
  the largest single cost of a workflow test). Both depend only on the definition's text: the
  components keep a run's state in the run's own Environment (its heap, keyed by each component's
  heap_key), never in themselves, as Parallel branches and Map iterations already rely on when they
  evaluate one component concurrently. So they are kept per text.
- It makes a new boto3 client (about 10 ms) for every Lambda task it runs. The client holds no state
  of its own, so one per region and endpoint serves every task.
- It parses each JSONPath (a Parameters path, a ResultPath) with jsonpath_ng, which builds its LALR
  parser anew for every path (about 15 ms). The parsed paths are only read (find, update_or_create),
  so each text is parsed once.
- It deep-copies the state's JSON at every step, several times (input, result, output, each path's
  value): copy.deepcopy's memo and dispatch were a seventh of a run's CPU. A value made only of dicts,
  lists, strings, numbers, booleans and None is copied as the tree it is; anything else still goes to
  copy.deepcopy. The one difference, a value shared within the tree copied twice, is JSON's own
  semantics, which is how Step Functions passes state from one step to the next.

localaws.replacements applies them (its registry names each target).
"""

from __future__ import annotations

import copy
import types
from functools import lru_cache
from typing import Any

from antlr4 import CommonTokenStream, InputStream, ParserRuleContext  # type: ignore[import-untyped]
from moto.core.models import botocore_stubber
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import json_path

_ORIGINAL_CLIENT_FOR = lambda_eval_utils.boto_client_for  # type: ignore[attr-defined]
_JSON_PATH_PARSE = json_path.parse  # type: ignore[attr-defined]
_RESULT_PATH_PARSE = result_path.parse  # type: ignore[attr-defined]
_ATOMS = frozenset({str, int, float, bool, type(None)})


@lru_cache(maxsize=32)
def _parse(definition: str) -> tuple[EvalComponent, ParserRuleContext]:
    """moto's own parse (AmazonStateLanguageParser.parse); raises as it does on a syntax error (which
    is not kept)."""
    listener = asl_parser.SyntaxErrorListener()  # type: ignore[no-untyped-call]
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.state_machine()  # type: ignore[no-untyped-call]
    if listener.errors:
        raise asl_parser.ASLParserException(errors=listener.errors)
    return Preprocessor().visit(tree), tree


@lru_cache(maxsize=32)
def _client(region: str, service: str, intercepted: bool, port: int) -> Any:
    return _ORIGINAL_CLIENT_FOR(region=region, service=service)


def _client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    # moto's own client ignores state_credentials too; the endpoint depends on the other two.
    return _client(region, service, botocore_stubber.enabled, moto_server_port())


class _NotJson(Exception):
    """A value json.loads could not have made: copy.deepcopy copies it."""


def _json_tree(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _json_tree(item) for key, item in value.items()}
    if kind is list:
        return [_json_tree(item) for item in value]
    if kind in _ATOMS:
        return value
    raise _NotJson


def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """copy.deepcopy(value, memo), a JSON value copied as a tree."""
    if memo is None:
        try:
            return _json_tree(value)
        except _NotJson:
            pass
    return copy.deepcopy(value, memo)


_COPY = types.SimpleNamespace(deepcopy=deepcopy)


# The values localaws.replacements puts in place (its registry names each one's target).
PARSE = staticmethod(_parse)
JSON_PATH_PARSE = lru_cache(maxsize=1024)(_JSON_PATH_PARSE)
RESULT_PATH_PARSE = lru_cache(maxsize=1024)(_RESULT_PATH_PARSE)
COPY = _COPY
