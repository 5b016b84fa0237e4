"""checkov, as `make checkov` runs it (in .venv-tools/checkov), with JSONPath's parser built once.

checkov's graph parses a JSONPath (bc_jsonpath_ng) for every attribute it renders, and bc_jsonpath_ng
builds its LALR parser with ply.yacc again for each one ("it doesn't actually take that long!"): about
70 ms each, half of checkov's CPU on our four templates. The parser depends only on the grammar (the
parser class and its start symbol; its productions read nothing from the instance), so it is built
once per grammar. ply's parser keeps the parse it is doing on itself, and checkov parses from several
threads, so each thread has its own. Which checks run, and what they find, is unchanged:
tests/template/test_checkov_runner.py holds the parser to one per grammar and thread, and its
trees to those of a parser built afresh.
"""

from __future__ import annotations

import sys
import threading
import warnings
from typing import Any

import ply.yacc  # type: ignore[import-not-found]
from bc_jsonpath_ng.parser import JsonPathParser  # type: ignore[import-not-found]

_YACC = ply.yacc.yacc
_BUILT = threading.local()


def _yacc(**options: Any) -> Any:
    module = options.get("module")
    if not isinstance(module, JsonPathParser):
        return _YACC(**options)
    built: dict[tuple[type, str], Any] = _BUILT.__dict__.setdefault("parsers", {})
    grammar = (type(module), options.get("start", ""))
    if grammar not in built:
        built[grammar] = _YACC(**options)
    return built[grammar]


if __name__ == "__main__":
    ply.yacc.yacc = _yacc
    from checkov.main import Checkov  # type: ignore[import-not-found]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)  # as checkov's own entry point does
        sys.exit(Checkov().run())
