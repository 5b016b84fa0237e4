"""The public commands (`python -m <module> ...`), each in a process of its own, forked from one process
that has already imported what every command imports first: boto3, botocore and the standard library
modules they use (about 0.35 s of each command's 0.5 to 2 s), and SAM's translator, which each deploy
imports (another 0.35 s); and that has parsed botocore's data files for the commands' services (about
60 ms of a command that makes five clients).

Nothing of the project is imported before the fork, and the preloaded modules read no environment
when they are imported (boto3 and botocore read it when a session or client is made), so each command
sees only its own arguments, environment and working directory. It ends as `python -m` would: with
SystemExit's code (its message on stderr), or with 1 and the traceback on stderr.

Run as a script, this file is the process the commands are forked from: it reads one request per
line on stdin and answers each on stdout. Commands.run() is the test's side.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Third-party and standard library modules only: importing them has no side effect a command could see.
PRELOAD = (
    "argparse",
    "importlib.metadata",
    "json",
    "logging",
    "pathlib",
    "subprocess",
    "unittest.mock",
    "zipfile",
    "yaml",
    "boto3",
    "boto3.session",
    "botocore.args",
    "botocore.client",
    "botocore.credentials",
    "botocore.endpoint",
    "botocore.parsers",
    "botocore.regions",
    "botocore.session",
    # What the deploy commands import (localaws.sam_transform); samtranslator reads no environment.
    "samtranslator.parser.parser",
    "samtranslator.translator.translator",
)
# The services whose models the commands' clients load (the CLI's, and the local AWS's for seed and deploy).
SERVICES = (
    "cloudformation",
    "cloudtrail",
    "iam",
    "kms",
    "lambda",
    "organizations",
    "s3",
    "sns",
    "sqs",
    "stepfunctions",
    "sts",
)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


class Commands:
    """The test's side: run(module, args, env, cwd) forks one command and waits for it. The process
    they are forked from starts at the first, with `environment` (its PYTHONPATH is every command's)."""

    def __init__(self, environment: dict[str, str]) -> None:
        self._environment = environment
        self._server: subprocess.Popen[str] | None = None

    def run(self, module: str, args: list[str], env: dict[str, str], cwd: Path, timeout: int = 300) -> Ran:
        if self._server is None:
            self._server = subprocess.Popen(  # noqa: S603 - our own interpreter and this file
                [sys.executable, "-P", __file__],
                env=self._environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        assert self._server.stdin is not None
        assert self._server.stdout is not None
        request = {"module": module, "args": args, "env": env, "cwd": str(cwd), "timeout": timeout}
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        answer = self._server.stdout.readline()
        assert answer, "the process the commands are forked from has ended"
        done = json.loads(answer)
        return Ran(done["code"], done["out"], done["err"])

    def close(self) -> None:
        if self._server is not None:
            assert self._server.stdin is not None
            self._server.stdin.close()
            self._server.wait(timeout=10)
            self._server = None


def _run_module(module: str, args: list[str], env: dict[str, str], cwd: str, timeout: int) -> int:
    """In the forked child: the command, as `python -m module args...` would run it."""
    import runpy
    import signal
    import traceback

    signal.alarm(timeout)  # a command that hangs is killed (SIGALRM), and its code says so
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001 - reported as the interpreter reports it
        traceback.print_exc()
        return 1
    return 0


def _keep_botocore_data() -> None:
    """botocore parses its JSON data files (the endpoints, each service's model and rules) anew in every
    session of every process: a quarter of what a command spends making its clients. They are parsed here
    once, before the forks, and kept by path, so each command has them without reading them. A file on
    another search path (a command's AWS_DATA_PATH) has a path of its own, read from disk as before."""
    from botocore import loaders
    from botocore.exceptions import DataNotFoundError

    try:
        from localaws import replacements
    except ImportError:  # the commands' PYTHONPATH leaves the repository out: they run, only slower
        pass
    else:
        # For the life of this process and its forks (the registry's speedup botocore-json-files-kept).
        replacements.applied("botocore-json-files-kept").__enter__()
    loader = loaders.Loader()
    for name in ("endpoints", "partitions", "sdk-default-configuration", "_retry"):
        loader.load_data(name)
    for service in SERVICES:
        for kind in ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"):
            with contextlib.suppress(DataNotFoundError):  # a service without that kind of file
                loader.load_service_model(service, kind)


def _serve() -> None:
    import importlib
    import tempfile

    for name in PRELOAD:
        importlib.import_module(name)
    _keep_botocore_data()
    for line in sys.stdin:
        request = json.loads(line)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                    sys.stdin = open(os.devnull)  # noqa: SIM115 - the child's, until it exits
                    os.dup2(out.fileno(), 1)
                    os.dup2(err.fileno(), 2)
                    code = _run_module(
                        request["module"], request["args"], request["env"], request["cwd"], request["timeout"]
                    )
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            out.seek(0)
            err.seek(0)
            answer = {
                "code": os.waitstatus_to_exitcode(status),
                "out": out.read().decode("utf-8", errors="replace"),
                "err": err.read().decode("utf-8", errors="replace"),
            }
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
