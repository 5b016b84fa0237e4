"""tests/support/forked_commands.py ends a command as `python -m` would, with only the command's own
arguments, environment and working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.forked_commands import Commands, Ran

COMMAND = """import os, sys
print(os.environ.get("ONLY_HERE"), sys.argv[1:], os.getcwd())
if sys.argv[1] == "raise":
    raise ValueError("bad input")
if sys.argv[1] == "message":
    sys.exit("what went wrong")
if sys.argv[1] == "code":
    sys.exit(3)
if sys.argv[1] == "botocore":
    import boto3
    session = boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    s3 = session.client("s3")
    print(s3.meta.endpoint_url, len(s3.meta.service_model.operation_names), session.get_available_regions("kms")[:3])
"""


def test_a_forked_command_ends_as_python_dash_m_would(tmp_path: Path) -> None:
    (tmp_path / "command.py").write_text(COMMAND, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    commands = Commands(environment)
    try:
        for argument in ("raise", "message", "code", "fine"):
            env = {**environment, "ONLY_HERE": argument}
            forked = commands.run("command", [argument], env, tmp_path)
            real = subprocess.run(  # noqa: S603 - our own interpreter, the command above
                [sys.executable, "-m", "command", argument],
                cwd=tmp_path,
                env=env,
                check=False,
                capture_output=True,
                text=True,
            )
            assert forked.code == real.returncode, argument
            assert forked.out == real.stdout == f"{argument} ['{argument}'] {tmp_path}\n"
            assert forked.err.splitlines()[-1:] == real.stderr.splitlines()[-1:]
        assert commands.run("command", ["fine"], environment, tmp_path) == Ran(0, f"None ['fine'] {tmp_path}\n", "")
        # botocore's data files, parsed before the fork, are what a fresh process reads from disk.
        forked = commands.run("command", ["botocore"], environment, tmp_path)
        real = subprocess.run(
            [sys.executable, "-m", "command", "botocore"],
            cwd=tmp_path,
            env=environment,
            check=False,
            capture_output=True,
            text=True,
        )
        assert "https://s3.eu-west-1.amazonaws.com" in real.stdout
        assert forked == Ran(real.returncode, real.stdout, real.stderr)
    finally:
        commands.close()
