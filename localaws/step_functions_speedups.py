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

faster() installs them; localaws.speedups.faster() enters it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import lru_cache
from typing import Any
from unittest import mock

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


@contextmanager
def faster() -> Iterator[None]:
    with ExitStack() as patches:
        patches.enter_context(mock.patch.object(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(_parse)))
        patches.enter_context(mock.patch.object(lambda_eval_utils, "boto_client_for", _client_for))
        patches.enter_context(mock.patch.object(json_path, "parse", lru_cache(maxsize=1024)(_JSON_PATH_PARSE)))
        patches.enter_context(mock.patch.object(result_path, "parse", lru_cache(maxsize=1024)(_RESULT_PATH_PARSE)))
        yield
