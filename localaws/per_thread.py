"""os.environ and sys.stdout as each in-process Lambda function sees them: its own, per thread.

Lambda runs each function in its own container. In one process, the bridge waits on a run while Step
Functions invokes the steps on other threads; each must see only its own environment, and what it
prints must land in its own log (in Lambda, CloudWatch Logs), not in the terminal of whoever invoked it.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator, MutableMapping
from typing import Any


class ThreadEnviron(MutableMapping[str, str]):
    """os.environ with a per-thread overlay: a view over the same environment, never a copy of it."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self._local = threading.local()

    @property
    def overlay(self) -> dict[str, str] | None:
        overlay: dict[str, str] | None = getattr(self._local, "overlay", None)
        return overlay

    @overlay.setter
    def overlay(self, value: dict[str, str] | None) -> None:
        self._local.overlay = value

    def _view(self) -> MutableMapping[str, str]:
        return self.overlay if self.overlay is not None else self.base

    def __getitem__(self, key: str) -> str:
        return self._view()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._view()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._view()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._view()))

    def __len__(self) -> int:
        return len(self._view())

    def copy(self) -> dict[str, str]:
        return dict(self._view())


class ThreadStdout(io.TextIOBase):
    """sys.stdout with a per-thread capture."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self._local = threading.local()

    @property
    def capture(self) -> io.StringIO | None:
        capture: io.StringIO | None = getattr(self._local, "capture", None)
        return capture

    @capture.setter
    def capture(self, value: io.StringIO | None) -> None:
        self._local.capture = value

    def write(self, text: str) -> int:
        target = self.capture if self.capture is not None else self.real
        return int(target.write(text))

    def flush(self) -> None:
        # Loggers keep this object past the context; by interpreter exit the real stream may be gone.
        if not getattr(self.real, "closed", False):
            self.real.flush()


_THREAD_STDOUT: list[ThreadStdout] = []


def thread_stdout() -> ThreadStdout:
    """One wrapper for the process: a handler module imported under an earlier local AWS keeps its
    logger's stream, and must still be captured under the next one."""
    if not _THREAD_STDOUT:
        _THREAD_STDOUT.append(ThreadStdout(sys.stdout))
    wrapper = _THREAD_STDOUT[0]
    if sys.stdout is not wrapper:
        wrapper.real = sys.stdout
    return wrapper


def thread_stdout_over(original: object) -> ThreadStdout:
    """thread_stdout(), as localaws.replacements puts it in place of sys.stdout (which it wraps)."""
    return thread_stdout()
