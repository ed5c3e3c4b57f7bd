"""RolloutRecorder: appends one thread's records to its rollout file.

Each record is one line, `{"timestamp": ..., "type": ..., "payload": {...}}`, encoded compactly
with `ensure_ascii=False`. The caller encodes the line at once (so later mutation of a payload
dict cannot change what is written, and the timestamp is the moment of recording) and hands the
bytes to a dedicated writer thread through a queue; the event loop never waits on the disk.

Durability choices:

- The file is opened with `O_APPEND` and each line goes out in ONE `os.write` call. On a local
  POSIX filesystem the kernel positions and copies an appending write as a unit, so two processes
  appending to one session (a resumed session while the old process still runs) interleave whole
  lines, never halves. Nothing is buffered in user space: once the writer thread has handled a
  line, every other process can read it, and a crash loses at most the lines still queued.
- `flush()` waits until the writer has handled everything queued so far, then `fsync`s, so
  "flushed" means on disk, not only in the page cache.
- A new thread's file is created lazily, on the first real record (a response item or a
  `user_message` event): a session the user never spoke in leaves no file. `session_meta` is
  written first, then whatever was recorded before (turn contexts, early events), then the record.
- `resume(path)` appends to an existing file without a new `session_meta`; if the file ends in a
  torn line (a crash mid-write), a newline is written first so new records start on a fresh line.

Ephemeral sessions (`exec --ephemeral`) simply do not create a recorder.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import threading
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pycodex._records import dataclass
from pycodex.sessions.errors import RolloutWriteError
from pycodex.sessions.paths import format_timestamp, rollout_path

RecordType = Literal["session_meta", "response_item", "event_msg", "turn_context", "compacted"]

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# Session files hold commands and their output; keep them private to the user.
_FILE_MODE = 0o600


def encode_record(record_type: RecordType, payload: dict[str, Any], at: datetime) -> bytes:
    """One rollout line, newline included."""
    text = _ENCODER.encode(
        {"timestamp": format_timestamp(at), "type": record_type, "payload": payload}
    )
    # A lone surrogate (undecodable process output) cannot be UTF-8 encoded; backslashreplace turns
    # it into the JSON escape `\udcXX`, which a reader decodes back to the same character.
    return text.encode("utf-8", "backslashreplace") + b"\n"


@dataclass(frozen=True)
class _Open:
    path: Path


@dataclass(frozen=True)
class _Write:
    lines: tuple[bytes, ...]


@dataclass(frozen=True)
class _Barrier:
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[None]
    stop: bool
    sync: bool = True


@dataclass(frozen=True)
class _Abandon:
    """Sent when a recorder is garbage-collected without close(): end the thread quietly."""


_Command = _Open | _Write | _Barrier | _Abandon


class _WriterThread:
    """Owns the file descriptor; handles commands strictly in the order they were queued."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self.error: RolloutWriteError | None = None
        self._fd = fd
        self._queue: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"rollout-writer:{path.name}")
        # Daemon: a process that exits without close() must not hang on an idle writer.
        self._thread.daemon = True
        self._thread.start()

    def submit(self, command: _Command) -> None:
        self._queue.put(command)

    def _run(self) -> None:
        while True:
            command = self._queue.get()
            if isinstance(command, _Abandon):
                self._close_fd()
                return
            if isinstance(command, _Barrier):
                self._finish_barrier(command)
                if command.stop:
                    return
            elif self.error is None:
                try:
                    self._apply(command)
                except OSError as exc:
                    self.error = RolloutWriteError(self.path, exc)

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _apply(self, command: _Open | _Write) -> None:
        if isinstance(command, _Open):
            command.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
            self._fd = os.open(command.path, flags, _FILE_MODE)
            return
        if self._fd is None:
            raise OSError(f"rollout file {self.path} is not open")
        for line in command.lines:
            _write_all(self._fd, line)

    def _finish_barrier(self, barrier: _Barrier) -> None:
        if barrier.sync and self._fd is not None and self.error is None:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self.error = RolloutWriteError(self.path, exc)
        if barrier.stop:
            self._close_fd()
        try:
            barrier.loop.call_soon_threadsafe(_resolve, barrier.done, self.error)
        except RuntimeError:
            pass  # The loop is closed: nobody is waiting any more.


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    # A regular-file append is short only on errors like a full disk; finish the line rather than
    # leave a torn one (the reader skips a line that ends up broken).
    while written < len(data):
        data = data[written:]
        written = os.write(fd, data)


def _resolve(done: asyncio.Future[None], error: RolloutWriteError | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


class RolloutRecorder:
    """Records one thread to `$CODEX_HOME/sessions/.../rollout-...-<thread_id>.jsonl`.

    The `record_*` methods are synchronous and cheap (encode, enqueue); `flush()` and `close()`
    are awaited. Write failures are raised from `flush()`/`close()` as RolloutWriteError.
    """

    def __init__(
        self,
        codex_home: Path,
        thread_id: str,
        session_meta: dict[str, Any],
        *,
        started_at: datetime | None = None,
    ) -> None:
        started = started_at if started_at is not None else datetime.now(UTC)
        meta = {"id": thread_id, "timestamp": format_timestamp(started), **session_meta}
        self._setup(
            rollout_path(codex_home, thread_id, started),
            encode_record("session_meta", meta, datetime.now(UTC)),
            writer=None,
        )

    @classmethod
    def resume(cls, path: Path) -> RolloutRecorder:
        """Append to an existing rollout file (no new session_meta). Raises OSError if missing."""
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        try:
            torn = _ends_without_newline(fd)
        except OSError:
            os.close(fd)
            raise
        writer = _WriterThread(path, fd)
        if torn:
            writer.submit(_Write((b"\n",)))
        recorder = cls.__new__(cls)
        recorder._setup(path, None, writer=writer)
        return recorder

    def _setup(self, path: Path, meta_line: bytes | None, *, writer: _WriterThread | None) -> None:
        self._path = path
        self._meta_line = meta_line
        self._early_lines: list[bytes] = []
        self._writer: _WriterThread | None = None
        self._finalizer: weakref.finalize[[_Command], RolloutRecorder] | None = None
        self._closed = False
        if writer is not None:
            self._attach(writer)

    def _attach(self, writer: _WriterThread) -> None:
        self._writer = writer
        # The thread does not reference the recorder, so a forgotten recorder is still collected;
        # this ends its thread and closes the file then.
        self._finalizer = weakref.finalize(self, writer.submit, _Abandon())

    @property
    def path(self) -> Path:
        """Where the rollout is (or will be, once the first real record arrives)."""
        return self._path

    @property
    def materialized(self) -> bool:
        """Whether the file has been (or is being) created."""
        return self._writer is not None

    def record_items(self, items: Sequence[dict[str, Any]]) -> None:
        """Record response items (history items as sent to or received from the model)."""
        if items:
            now = datetime.now(UTC)
            lines = [encode_record("response_item", item, now) for item in items]
            self._submit(lines, real=True)

    def record_event(self, payload: dict[str, Any]) -> None:
        """Record an `event_msg`; `payload["type"]` names the event (user_message, ...)."""
        line = encode_record("event_msg", payload, datetime.now(UTC))
        self._submit([line], real=payload.get("type") == "user_message")

    def record_turn_context(self, payload: dict[str, Any]) -> None:
        """Record the settings of a turn (cwd, approval_policy, sandbox_policy, model, ...)."""
        self._submit([encode_record("turn_context", payload, datetime.now(UTC))], real=False)

    def record_compacted(
        self, message: str, replacement_history: list[dict[str, Any]] | None
    ) -> None:
        """Record a compaction; a reader replaces its history with `replacement_history`."""
        payload: dict[str, Any] = {"message": message}
        if replacement_history is not None:
            payload["replacement_history"] = replacement_history
        self._submit([encode_record("compacted", payload, datetime.now(UTC))], real=False)

    async def flush(self) -> None:
        """Wait until every record handed over so far is written and fsynced."""
        if self._writer is not None and not self._closed:
            await self._barrier(self._writer, stop=False)

    async def written(self) -> None:
        """Wait until every record handed over so far is in the file, without fsync.

        Written data survives the process being killed (not a power cut). The engine waits for
        this before each model request, so a killed run's file holds everything the model saw.
        """
        if self._writer is not None and not self._closed:
            await self._barrier(self._writer, stop=False, sync=False)

    async def close(self) -> None:
        """Flush, then close the file. Idempotent; records after close raise RuntimeError."""
        if self._closed:
            return
        self._closed = True
        if self._finalizer is not None:
            self._finalizer.detach()
        if self._writer is not None:
            await self._barrier(self._writer, stop=True)

    def _submit(self, lines: list[bytes], *, real: bool) -> None:
        if self._closed:
            raise RuntimeError(f"rollout recorder for {self._path} is closed")
        if self._writer is not None:
            self._writer.submit(_Write(tuple(lines)))
            return
        if not real:
            self._early_lines.extend(lines)
            return
        assert self._meta_line is not None  # only resumed recorders lack it, and they have a writer
        writer = _WriterThread(self._path, None)
        self._attach(writer)
        writer.submit(_Open(self._path))
        writer.submit(_Write((self._meta_line, *self._early_lines, *lines)))
        self._early_lines = []

    @staticmethod
    async def _barrier(writer: _WriterThread, *, stop: bool, sync: bool = True) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        writer.submit(_Barrier(loop, done, stop, sync))
        await done


def _ends_without_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
