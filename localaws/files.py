"""Files that several processes share (the build folders' kept artifacts, the expanded templates)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path


def kept(path: Path, make: Callable[[], bytes]) -> bytes:
    """path's bytes, made by make() and written whole the first time any process asks for them."""
    if path.is_file():
        return path.read_bytes()
    data = make()
    write_whole(path, data)
    return data


def write_whole(path: Path, data: bytes) -> None:
    """Write data to path by a rename: a process reading path finds the old file or the new one, never a part.

    The temporary file is unique to this call, so two threads or processes writing the same path at once
    each rename a whole file of their own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as written:
        written.write(data)
    Path(written.name).replace(path)
