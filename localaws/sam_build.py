"""sam build for the local AWS: into .aws-sam/localaws (and .aws-sam/localaws-org for org/management.yaml),
only when the sources changed since the last build by any process, one build at a time.

org/management.yaml's layer is template.yaml's: the same folder, built the same way (tests/org holds
them equal). Its pip install is most of a build, so build_org() has sam build the org template with the
layer pointed at the Log Archive build's, and builds only the delegate function.

Parallel test workers and the local AWS's commands share the build folders and sam's cache; a lock
(fcntl's, on BUILD_LOCK) lets one process build while none reads a build.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from localaws import ROOT, files, templates

BUILD = ROOT / ".aws-sam" / "localaws"
ORG_BUILD = ROOT / ".aws-sam" / "localaws-org"
BUILD_LOCK = ROOT / ".aws-sam" / ".localaws-build.lock"
ORG_TEMPLATE = ROOT / "org" / "management.yaml"
ORG_SOURCE = ROOT / ".aws-sam" / "localaws-org-source" / "management.json"  # what build_org has sam build
STAMP = ".localaws-sources.json"  # in a build folder: the sources it was built from


def build(template: Path = ROOT / "template.yaml", build_dir: Path = BUILD) -> Path:
    """sam build into build_dir (.aws-sam/localaws), with the Lambda runtime's python first on PATH.

    Only when the sources changed since the last build (by any process): even sam build --cached of an
    unchanged tree costs seconds, and the tests and the local AWS's commands deploy many times."""
    sources = _sources_fingerprint(template)
    stamp = build_dir / STAMP
    if _is_built(stamp, sources):
        return build_dir / "template.yaml"
    sam = ROOT / ".venv-tools" / "sam" / "bin" / "sam"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    env.pop("AWS_ENDPOINT_URL", None)
    # One build at a time, and none while another process reads a build: parallel test workers share the
    # build folders and sam's cache (.aws-sam/cache); with --cached an unchanged tree builds in a moment.
    with lock(fcntl.LOCK_EX):
        subprocess.run(  # noqa: S603 - a fixed command line
            [str(sam), "build", "--template", str(template), "--build-dir", str(build_dir), "--cached"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        stamp.write_text(json.dumps(sources), encoding="utf-8")
    return build_dir / "template.yaml"


def _is_built(stamp: Path, sources: list[Any]) -> bool:
    with lock(fcntl.LOCK_SH):
        return (
            (stamp.parent / "template.yaml").is_file()
            and stamp.is_file()
            and json.loads(stamp.read_text(encoding="utf-8")) == sources
        )


@contextmanager
def lock(mode: int) -> Iterator[None]:
    """fcntl's lock on the build folders: LOCK_EX to build, LOCK_SH to read what was built."""
    BUILD_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with BUILD_LOCK.open("a") as lock:
        fcntl.flock(lock, mode)
        yield


def _sources_fingerprint(template: Path) -> list[Any]:
    """What a build depends on, as the template and the newest modification time and count of the files
    under the folders sam reads (functions/, layers/, statemachine/)."""
    folders = [ROOT / name for name in ("functions", "layers", "statemachine")]
    found = (path for folder in folders for path in folder.rglob("*") if "__pycache__" not in path.parts)
    files = [template, *(path for path in found if path.is_file())]
    return [str(template), max(p.stat().st_mtime_ns for p in files), len(files)]


def build_org() -> Path:
    """org/management.yaml built by sam into .aws-sam/localaws-org, its layer the Log Archive build's."""
    layer_build = build().parent / "OnboardingLayer"
    template = templates.read(ORG_TEMPLATE)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = str(layer_build)
            resource.pop("Metadata")  # no BuildMethod: sam takes the folder as it is
        elif isinstance(properties.get("CodeUri"), str):
            properties["CodeUri"] = str((ORG_TEMPLATE.parent / properties["CodeUri"]).resolve())
    text = json.dumps(template, indent=1)
    # Rewritten only when it changes (its modification time is part of what a build is stamped with),
    # and whole, so that another worker never reads half of it.
    if not ORG_SOURCE.is_file() or ORG_SOURCE.read_text(encoding="utf-8") != text:
        files.write_whole(ORG_SOURCE, text.encode("utf-8"))
    return build(ORG_SOURCE, ORG_BUILD)
