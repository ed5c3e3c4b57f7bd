"""File operations for the patch writer that never follow a symbolic link.

A patch is checked against the writable roots on canonical paths (every symlink resolved), and
then written. Between the two, a sandboxed command may swap a directory of the workspace for a
symlink to somewhere else; an ordinary `open(path)` would follow it and write outside. So a
`DirectoryWalk` reaches every directory from `/` one component at a time, each opened relative
to its parent with `O_NOFOLLOW` (an `openat` walk), and creates, replaces or removes files
relative to their directory's descriptor. A symlink anywhere on the way stops the operation
(`SymlinkInTheWayError`). A walk keeps the directories it opened for the rest of one commit: a
descriptor stays on the directory that was checked, even if its name is exchanged afterwards,
so a patch of many files opens each directory once.

Files are opened with `O_NONBLOCK` and must be regular files: a FIFO in the workspace would
otherwise block the writer forever.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from types import TracebackType

from pycodex._records import dataclass

_DIRECTORY_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_ROOT = Path("/")


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


class DirectoryWalk:
    """The directories one commit has reached without following links, by canonical path.

    Use as a context manager: leaving it closes every descriptor. `created` lists the
    directories it made, outermost first.
    """

    def __init__(self) -> None:
        self._open: dict[Path, int] = {}
        self.created: list[Path] = []

    def __enter__(self) -> DirectoryWalk:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        while self._open:
            os.close(self._open.popitem()[1])

    def directory(self, path: Path, create: bool) -> int:
        """A descriptor of the directory `path`; missing ones are made when `create`."""
        fd = self._open.get(path)
        if fd is not None:
            return fd
        if path == _ROOT:
            fd = os.open("/", _DIRECTORY_FLAGS)
        else:
            _check_canonical(path)
            parent = self.directory(path.parent, create)
            fd = self._child_directory(parent, path, create)
        self._open[path] = fd
        return fd

    def _child_directory(self, parent_fd: int, path: Path, create: bool) -> int:
        try:
            return _checked_directory(parent_fd, path)
        except FileNotFoundError:
            if not create:
                raise
        os.mkdir(path.name, dir_fd=parent_fd)
        self.created.append(path)
        return _checked_directory(parent_fd, path)

    def write_file(self, path: Path, data: bytes, mode: int | None = None) -> None:
        """Replace the contents of the regular file at `path` (creating it and its directories)."""
        fd = _open_file(self.directory(path.parent, True), path, os.O_WRONLY | os.O_CREAT)
        try:
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None:
                os.fchmod(fd, stat.S_IMODE(mode))
        finally:
            os.close(fd)

    def read_state(self, path: Path) -> FileState:
        """What is at `path` now, without following a final symlink.

        Nothing can be at a path whose directories are missing or are not directories (the
        write that follows reports those).
        """
        try:
            dir_fd = self.directory(path.parent, False)
        except (FileNotFoundError, SymlinkInTheWayError):
            return ABSENT
        try:
            info = os.stat(path.name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return ABSENT
        if stat.S_ISLNK(info.st_mode):
            return FileState(link=os.readlink(path.name, dir_fd=dir_fd))
        fd = _open_file(dir_fd, path, os.O_RDONLY)
        try:
            return FileState(data=_read_all(fd), mode=info.st_mode)
        finally:
            os.close(fd)

    def restore_state(self, path: Path, state: FileState) -> None:
        """Put back what `read_state` saw."""
        if state.data is not None:
            self.write_file(path, state.data, mode=state.mode)
            return
        self.remove_file(path)
        if state.link is not None:
            os.symlink(state.link, path.name, dir_fd=self.directory(path.parent, False))

    def remove_file(self, path: Path) -> None:
        """Remove the file or symlink at `path` (a symlink itself, never what it points to)."""
        try:
            os.unlink(path.name, dir_fd=self.directory(path.parent, False))
        except FileNotFoundError:
            return

    def remove_directory(self, path: Path) -> None:
        """Remove the empty directory at `path`."""
        fd = self._open.pop(path, None)
        if fd is not None:
            os.close(fd)
        os.rmdir(path.name, dir_fd=self.directory(path.parent, False))


def _checked_directory(parent_fd: int, path: Path) -> int:
    try:
        fd = os.open(path.name, _DIRECTORY_FLAGS, dir_fd=parent_fd)
    except NotADirectoryError:
        raise SymlinkInTheWayError(path) from None
    if not stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise SymlinkInTheWayError(path)
    return fd


def _check_canonical(path: Path) -> None:
    if not path.is_absolute() or path.name in ("", ".", ".."):
        raise ValueError(f"not a canonical absolute path: {path}")


def _open_file(dir_fd: int, path: Path, flags: int) -> int:
    _check_canonical(path)
    try:
        fd = os.open(path.name, flags | _FILE_FLAGS, 0o666, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SymlinkInTheWayError(path) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, f"{path} is not a regular file")
    return fd


def read_regular_file(path: Path) -> bytes:
    """The contents of the regular file `path` names (following symlinks: reading is allowed
    anywhere), refusing FIFOs and devices, which could block or never end."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(kind):
            raise OSError(errno.EINVAL, "not a regular file")
        return _read_all(fd)
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)
