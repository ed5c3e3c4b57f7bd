"""Files the server keeps for its owner alone: the response store, the trajectory dump, the key.

They hold whole conversations (and, for the key, the power to forge compaction summaries), so
each is created mode 0600 and each directory the server creates on the way is mode 0700. Files and
directories that already exist keep the mode their owner gave them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create `path` and any missing parents, each new one mode 0700."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made by a concurrent start
            directory.mkdir(mode=DIR_MODE)


def touch_private(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (then it is left as it is)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))


def open_private_append(path: Path) -> int:
    """A file descriptor appending to `path`, created mode 0600 if new."""
    private_dir(path.parent)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)


def publish_private(path: Path, data: bytes) -> bool:
    """Write `path` whole and at once, unless it exists; False when another writer was first.

    The data goes to a temporary file (mode 0600) in the same directory, is flushed to disk,
    then hard-linked into place: a reader sees no file or the whole file, never an empty or
    half-written one, and of two processes publishing at once exactly one wins.
    """
    private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:
            # A file system without hard links: rename is atomic too, but replaces a file that
            # appeared meanwhile; check first so a key in use is kept in all but a tiny window.
            if path.exists():
                return False
            os.replace(temporary, path)
        return True
    finally:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
