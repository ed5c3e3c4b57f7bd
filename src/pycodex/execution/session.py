"""One exec session: a running child, the output it produced since the last read, its exit.

A watcher task waits for the child to exit, lets its output drain, closes the descriptors and
records the exit code; readers of the session only ever wait for that, so a poll returns as soon
as the process is done.
"""

from __future__ import annotations

import asyncio
import os

from pycodex.execution.capture import CapturedText, HeadTailText, Utf8Sink
from pycodex.execution.fdio import FdReader, write_all
from pycodex.execution.spawn import (
    IO_DRAIN_TIMEOUT_S,
    KILL_GRACE_S,
    SpawnedChild,
    exit_code_from_returncode,
    kill_process_group,
)

# Upstream keeps about 1 MiB of unread output per session; the model sees a truncated view of it.
SESSION_OUTPUT_LIMIT_CHARS = 1024 * 1024
# A safety net for waiting on a killed child's watcher, which normally finishes at once.
_FINISH_TIMEOUT_S = 5.0


class ExecSessionError(Exception):
    """A `write_stdin`-style request that cannot be served; the message is meant for the model."""


class UnknownSessionError(ExecSessionError):
    def __init__(self, session_id: int) -> None:
        super().__init__(
            f"Unknown session id {session_id}: no running process has that id (it may have "
            "exited and its final output already been returned, or it was terminated)"
        )
        self.session_id = session_id


class StdinClosedError(ExecSessionError):
    def __init__(self, session_id: int) -> None:
        super().__init__(
            f"stdin is closed for session {session_id}; rerun exec_command with tty=true to keep "
            "stdin open"
        )
        self.session_id = session_id


class ExecSession:
    """Owns one child started by `exec_command` until its final output has been read."""

    def __init__(
        self,
        session_id: int,
        child: SpawnedChild,
        *,
        output_limit_chars: int = SESSION_OUTPUT_LIMIT_CHARS,
    ) -> None:
        self.session_id = session_id
        self.child = child
        self.last_used = 0
        # Serialises reads so two overlapping polls never split one chunk of output.
        self.lock = asyncio.Lock()
        self._pending = HeadTailText(output_limit_chars)
        self._sink = Utf8Sink(self._pending)
        self._reader = FdReader(child.output_fd, self._sink.feed)
        self._exit_code: int | None = None
        self._finished = asyncio.Event()
        self._watcher = asyncio.create_task(self._watch(), name=f"exec-session-{session_id}")

    @property
    def finished(self) -> bool:
        """True once the child exited and its output was drained and descriptors closed."""
        return self._finished.is_set()

    @property
    def exit_code(self) -> int | None:
        return self._exit_code

    async def _watch(self) -> None:
        try:
            returncode = await self.child.process.wait()
            # Bytes written just before exit are still in the pipe or terminal buffer.
            await self._reader.wait_eof(IO_DRAIN_TIMEOUT_S)
            self._exit_code = exit_code_from_returncode(returncode)
        finally:
            self._reader.stop()
            self._sink.flush()
            self.child.close()
            self._finished.set()

    async def wait_finished(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the child to finish; True if it has."""
        if timeout_s > 0 and not self.finished:
            try:
                async with asyncio.timeout(timeout_s):
                    await self._finished.wait()
            except TimeoutError:
                pass
        return self.finished

    def take_output(self) -> CapturedText:
        """Output produced since the previous call."""
        return self._pending.take()

    async def write(self, chars: str, timeout_s: float) -> None:
        """Send `chars` to the child's terminal, waiting at most `timeout_s` for room."""
        if self.child.input_fd is None:
            raise StdinClosedError(self.session_id)
        if self.finished:
            return
        # Our own descriptor for the write: the watcher may close the session's copy while we
        # wait for room, and a closed number can be reused by an unrelated file.
        fd = os.dup(self.child.input_fd)
        try:
            await write_all(fd, chars.encode("utf-8", "surrogatepass"), timeout_s)
        except OSError:
            pass  # the child is gone or hung up its terminal; the next chunk reports its exit
        finally:
            os.close(fd)

    async def kill(self) -> None:
        """Kill the child's process group and wait until the session is finished."""
        await kill_process_group(self.child.process, KILL_GRACE_S)
        await self.wait_finished(_FINISH_TIMEOUT_S)
