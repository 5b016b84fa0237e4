"""Where the local AWS's own logs go: a file, not the person's screen.

In AWS a function's log lines (Powertools, crhelper, a traceback it logs) go to its CloudWatch Logs group,
and the services' internals are never seen. The local AWS runs every function and service in its own
process, so their logging would reach the terminal of whoever runs `python -m localaws start` or
`make demo`. Both keep it in a file instead, and say where; only the failed requests the server
answers with InternalFailure (localaws.server) are also said on screen, one line each.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

SAID_ON_SCREEN = "localaws"


def path_for(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"localaws-{name}.log"


@contextmanager
def kept_in(path: Path, screen: TextIO) -> Iterator[TextIO]:
    """Every log record into path while the context lasts; the local AWS's own failures on screen too.
    Yields the open file, for output that is not logging (what functions print) to be sent there."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    ours = logging.getLogger(SAID_ON_SCREEN)
    on_screen = logging.StreamHandler(screen)
    with path.open("a", encoding="utf-8") as written:
        into_file = logging.StreamHandler(written)
        into_file.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.handlers, root.level = [into_file], logging.INFO
        ours.addHandler(on_screen)
        try:
            yield written
        finally:
            ours.removeHandler(on_screen)
            root.handlers, root.level = saved
