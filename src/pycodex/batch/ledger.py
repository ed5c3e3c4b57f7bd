"""The results file is the batch's ledger: what is in it is done.

Opening it takes an exclusive lock (one batch per results file), reads every line, and cuts off
a truncated last line (a batch killed mid-write; nothing else can leave one, as each result is
written whole before the next); a last line that is whole but lacks its newline (an editor's
doing) gets one. Each finished task is
appended as one line and `fsync`ed before the batch moves on, so a killed batch loses only the
tasks it was running.

A later line for an id supersedes earlier ones (a failed task run again). `compact()` rewrites
the file with one line per id, through a temporary file renamed over it, so a crash leaves
either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from pycodex.batch.results import BatchResult, ResultLineError

_Lines = dict[str, tuple[bytes, BatchResult]]
_UNTERMINATED = -1


class LedgerError(Exception):
    """A results file that cannot be used; the message is one line."""


class Ledger:
    def __init__(self, path: Path, fd: int, lines: _Lines, count: int) -> None:
        self.path = path
        self._fd = fd
        self._lines = {key: raw for key, (raw, _) in lines.items()}  # in last-written order
        self._count = count  # lines in the file, superseded ones included
        self.latest: dict[str, BatchResult] = {key: result for key, (_, result) in lines.items()}
        self.dropped_tail = False

    @classmethod
    def open(cls, path: Path) -> Ledger:
        """Open (creating it if needed) and lock the results file, and read what it holds."""
        path = path.absolute()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise LedgerError(f"cannot open results file {path}: {err.strerror}") from None
        try:
            _lock(fd, path)
            data = _read_all(fd)
            lines, count, tail = _parse(data, path)
            if tail == _UNTERMINATED:
                os.write(fd, b"\n")  # a whole last line that only lacks its newline
                os.fsync(fd)
            elif tail:
                os.ftruncate(fd, len(data) - tail)
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        ledger = cls(path, fd, lines, count)
        ledger.dropped_tail = tail > 0
        if not data:
            _fsync_directory(path.parent)  # the new file's name survives a crash too
        return ledger

    @property
    def superseded(self) -> int:
        """Lines for ids that have a later line."""
        return self._count - len(self._lines)

    def append(self, result: BatchResult) -> None:
        """Write one result line and force it to disk."""
        data = result.to_json_line().encode("utf-8")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)
        self._lines.pop(result.key, None)
        self._lines[result.key] = data
        self._count += 1
        self.latest[result.key] = result

    def compact(self) -> None:
        """Rewrite the file with one line per task, when some lines are superseded."""
        if not self.superseded:
            return
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.compact")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, b"".join(self._lines.values()))
            os.fsync(fd)
        finally:
            os.close(fd)
        new_fd = os.open(temporary, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        fcntl.flock(new_fd, fcntl.LOCK_EX)  # nobody else can hold it: the name is ours alone
        os.replace(temporary, self.path)
        _fsync_directory(self.path.parent)
        os.close(self._fd)
        self._fd = new_fd
        self._count = len(self._lines)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_results(path: Path) -> dict[str, BatchResult]:
    """The latest result of each task in a results file (read-only; no lock taken)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise LedgerError(f"cannot read results file {path}: {err.strerror}") from None
    lines, _, _ = _parse(data, path)
    return {key: result for key, (_, result) in lines.items()}


def _lock(fd: int, path: Path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise LedgerError(f"another pycodex batch is writing {path}") from None


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(data: bytes, path: Path) -> tuple[_Lines, int, int]:
    """Latest line and result per key, the number of lines, and what to do with the tail: the
    length of a truncated last line to cut off, 0, or `_UNTERMINATED` (a whole last line
    without its newline)."""
    lines: _Lines = {}
    count = 0
    raw_lines = data.split(b"\n")
    tail = raw_lines.pop()  # what follows the last newline: empty in a file written whole
    cut = len(tail)
    if tail.strip():
        try:
            BatchResult.from_wire(json.loads(tail))
        except (ValueError, ResultLineError):
            pass  # cut off mid-write
        else:
            raw_lines.append(tail)
            cut = _UNTERMINATED
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            result = BatchResult.from_wire(json.loads(raw))
        except (ValueError, ResultLineError) as err:
            raise LedgerError(
                f"{path}:{number}: not a result line ({err}); fix or remove that line"
            ) from None
        lines.pop(result.key, None)
        lines[result.key] = (raw + b"\n", result)
        count += 1
    return lines, count, cut


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
