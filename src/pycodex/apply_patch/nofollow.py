"""File operations for the patch writer that never follow a symbolic link.

A patch is checked against the writable roots on canonical paths (every symlink resolved), and
then written. Between the two, a sandboxed command may swap a directory of the workspace for a
symlink to somewhere else; an ordinary `open(path)` would follow it and write outside. So every
operation here walks its path from `/` one directory at a time, each opened relative to the
previous one with `O_NOFOLLOW` (an `openat` walk), and creates, replaces or removes the last
component relative to its directory's descriptor. A symlink anywhere on the way stops the
operation (`SymlinkInTheWayError`): a directory the walk holds cannot be exchanged under it, and
one the walk has not reached yet is checked when it gets there.

Files are opened with `O_NONBLOCK` and must be regular files: a FIFO in the workspace would
otherwise block the writer forever.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pycodex._records import dataclass

_DIRECTORY_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class SymlinkInTheWayError(OSError):
    """A component of the path is a symlink (or not a directory): nothing was written."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            errno.ELOOP,
            f"{path} is a symbolic link or not a directory; patches never write through links",
        )


@dataclass(frozen=True, slots=True)
class FileState:
    """What was at a path: a regular file (`data`, `mode`), a symlink (`link`) or nothing."""

    data: bytes | None = None
    mode: int | None = None
    link: str | None = None


ABSENT = FileState()


@contextmanager
def parent_directory(path: Path, created: list[Path] | None = None) -> Iterator[tuple[int, str]]:
    """Yield a descriptor of `path`'s directory and its last component's name.

    Missing directories are created when `created` is given (and recorded in it, outermost
    first); otherwise a missing one raises FileNotFoundError.
    """
    names = _components(path)
    fd = os.open("/", _DIRECTORY_FLAGS)
    current = Path("/")
    try:
        for name in names[:-1]:
            current = current / name
            next_fd = _open_directory(fd, name, current, created)
            os.close(fd)
            fd = next_fd
        yield fd, names[-1]
    finally:
        os.close(fd)


def _open_directory(parent_fd: int, name: str, path: Path, created: list[Path] | None) -> int:
    try:
        return _checked_directory(parent_fd, name, path)
    except FileNotFoundError:
        if created is None:
            raise
    os.mkdir(name, dir_fd=parent_fd)
    created.append(path)
    return _checked_directory(parent_fd, name, path)


def _checked_directory(parent_fd: int, name: str, path: Path) -> int:
    try:
        fd = os.open(name, _DIRECTORY_FLAGS, dir_fd=parent_fd)
    except NotADirectoryError:
        raise SymlinkInTheWayError(path) from None
    if not stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise SymlinkInTheWayError(path)
    return fd


def _components(path: Path) -> list[str]:
    names = list(path.parts[1:])
    if not path.is_absolute() or not names or any(name in (".", "..") for name in names):
        raise ValueError(f"not a canonical absolute path: {path}")
    return names


def write_file(path: Path, data: bytes, created: list[Path], mode: int | None = None) -> None:
    """Replace the contents of the regular file at `path` (creating it, and its directories)."""
    with parent_directory(path, created) as (dir_fd, name):
        fd = _open_file(dir_fd, name, path, os.O_WRONLY | os.O_CREAT)
        try:
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None:
                os.fchmod(fd, stat.S_IMODE(mode))
        finally:
            os.close(fd)


def _open_file(dir_fd: int, name: str, path: Path, flags: int) -> int:
    try:
        fd = os.open(name, flags | _FILE_FLAGS, 0o666, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SymlinkInTheWayError(path) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, f"{path} is not a regular file")
    return fd


def read_state(path: Path) -> FileState:
    """What is at `path` now, without following a final symlink.

    Nothing can be at a path whose directories are missing, or are not directories (the write
    that follows reports those).
    """
    try:
        with parent_directory(path) as (dir_fd, name):
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                return ABSENT
            if stat.S_ISLNK(info.st_mode):
                return FileState(link=os.readlink(name, dir_fd=dir_fd))
            fd = _open_file(dir_fd, name, path, os.O_RDONLY)
            try:
                return FileState(data=_read_all(fd), mode=info.st_mode)
            finally:
                os.close(fd)
    except (FileNotFoundError, SymlinkInTheWayError):
        return ABSENT


def restore_state(path: Path, state: FileState) -> None:
    """Put back what `read_state` saw (the directories on the way must still exist)."""
    if state.data is not None:
        write_file(path, state.data, created=[], mode=state.mode)
        return
    remove_file(path)
    if state.link is not None:
        with parent_directory(path) as (dir_fd, name):
            os.symlink(state.link, name, dir_fd=dir_fd)


def remove_file(path: Path) -> None:
    """Remove the file or symlink at `path` (a symlink itself, never what it points to)."""
    try:
        with parent_directory(path) as (dir_fd, name):
            os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return


def remove_directory(path: Path) -> None:
    """Remove the empty directory at `path`."""
    with parent_directory(path) as (dir_fd, name):
        os.rmdir(name, dir_fd=dir_fd)


def read_regular_file(path: Path) -> bytes:
    """The contents of the regular file `path` names (following symlinks: reading is allowed
    anywhere), refusing FIFOs and devices, which could block or never end."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return _read_all(fd)
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)
