"""`memories_v2.lock`: one process at a time runs the pipeline on a `$CODEX_HOME`.

An exclusive `flock` held for the whole run; the kernel drops it when the process dies, so a
killed worker never blocks the next one. The holder writes its pid into the file, for messages.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class PipelineLock:
    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> PipelineLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def acquire(path: Path, *, wait: bool) -> PipelineLock | None:
    """Take the lock; without `wait`, None when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return PipelineLock(fd)


def holder(path: Path) -> int | None:
    """The pid written by the process holding (or that last held) the lock."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
