"""localaws.files.write_whole: a reader of a shared file finds an old file or a new one, never a part."""

from __future__ import annotations

import threading
from pathlib import Path

from localaws import files


def test_writers_at_once_each_leave_a_whole_file_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "kept" / "artifact.zip"
    bodies = [bytes([n]) * 200_000 for n in range(8)]
    seen: list[bytes] = []

    def write(body: bytes) -> None:
        files.write_whole(path, body)
        seen.append(path.read_bytes())

    threads = [threading.Thread(target=write, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert path.read_bytes() in bodies
    assert all(body in bodies for body in seen)
    assert [child.name for child in path.parent.iterdir()] == ["artifact.zip"]
