"""scripts/run_checkov.py (what make checkov runs) builds JSONPath's parser once per grammar and thread,
and it parses every path to the same tree as a parser built afresh."""

from __future__ import annotations

import subprocess

from tests.support.cfn_template import ROOT

CHECKOV_PYTHON = ROOT / ".venv-tools" / "checkov" / "bin" / "python"
PROBE = """
import threading
import ply.yacc
from bc_jsonpath_ng.ext import parse
from bc_jsonpath_ng.ext.parser import ExtentedJsonPathParser
import run_checkov

paths = [
    "$.Environment.Variables.LOG_BUCKET_NAME",
    "AssumeRolePolicyDocument.Statement[?(@.Effect == Allow)].Action[*]",
    '$.KeyPolicy.Statement[4]."Fn::If"[1].Condition',
]
broken = "$.Condition.ArnLike.aws:SourceArn"  # checkov meets such keys, and catches the error

afresh = [parse(path) for path in paths]
ply.yacc.yacc = run_checkov._yacc
for _ in range(2):
    assert [parse(path) for path in paths] == afresh
    try:
        parse(broken)
    except Exception as error:
        assert "Parse error" in str(error)
    else:
        raise AssertionError(broken)


def built():
    return ply.yacc.yacc(module=ExtentedJsonPathParser(), start="jsonpath", write_tables=0, debug=False)


assert built() is built()
elsewhere = []
thread = threading.Thread(target=lambda: elsewhere.append(built()))
thread.start()
thread.join()
assert elsewhere[0] is not built()
print("ok")
"""


def test_jsonpaths_parse_to_the_same_trees_with_one_parser_per_grammar_and_thread() -> None:
    done = subprocess.run(  # noqa: S603 - the checkov venv's interpreter, our own probe
        [str(CHECKOV_PYTHON), "-c", PROBE],
        cwd=ROOT / "scripts",
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
