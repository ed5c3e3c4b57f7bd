"""One `pycodex exec --json` process: started, fed its prompt, read, stopped on time or on
request.

The process gets its own session (so a Ctrl-C at the terminal reaches the batch, which decides,
not every exec at once) and dies with the process that started it (`PR_SET_PDEATHSIG`, Linux):
a batch killed with SIGKILL leaves no exec running on without it. Stopping it early sends
SIGINT, on which exec ends its turn and closes its session file; what has not exited after the
grace period is killed with its whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from pycodex._records import dataclass
from pycodex.batch.exec_stream import ExecTranscript

EndedBy = Literal["exit", "timeout", "cancel"]
_STDERR_KEPT = 16 * 1024
_READ_CHUNK = 64 * 1024
_PR_SET_PDEATHSIG = 1
# Output still arriving after exec exited comes from processes it left behind; they are
# killed, and what they still hold open is not waited for longer than this.
_DRAIN_AFTER_EXIT_S = 5.0


@dataclass(frozen=True, slots=True)
class ExecRun:
    transcript: ExecTranscript
    returncode: int | None
    """The exit status; negative: killed by that signal; None: it could not be started."""
    ended_by: EndedBy
    stderr_tail: str
    spawn_error: str | None = None


async def run_exec(
    argv: Sequence[str],
    prompt: str,
    env: Mapping[str, str],
    *,
    timeout_s: float | None,
    cancel: asyncio.Event,
    grace_s: float,
) -> ExecRun:
    transcript = ExecTranscript()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
    except OSError as err:
        return ExecRun(transcript, None, "exit", "", f"cannot start {argv[0]}: {err.strerror}")
    stderr = bytearray()
    readers = [
        asyncio.create_task(_read(process.stdout, transcript.feed)),
        asyncio.create_task(_read(process.stderr, lambda data: _keep_tail(stderr, data))),
        asyncio.create_task(_write_prompt(process, prompt)),
    ]
    try:
        ended_by = await _wait(process, timeout_s, cancel, grace_s)
    except asyncio.CancelledError:  # the attempt itself was cancelled (a Ray cancel, a shutdown)
        _kill_group(process.pid)
        for reader in readers:
            reader.cancel()
        raise
    _kill_group(process.pid)  # whatever exec left behind in its group
    _, late = await asyncio.wait(readers, timeout=_DRAIN_AFTER_EXIT_S)
    for reader in late:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    transcript.close()
    return ExecRun(transcript, process.returncode, ended_by, stderr.decode("utf-8", "replace"))


async def _wait(
    process: asyncio.subprocess.Process,
    timeout_s: float | None,
    cancel: asyncio.Event,
    grace_s: float,
) -> EndedBy:
    exited = asyncio.create_task(process.wait())
    cancelled = asyncio.create_task(cancel.wait())
    try:
        done, _ = await asyncio.wait(
            {exited, cancelled}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        cancelled.cancel()
    if exited in done:
        return "exit"
    ended_by: EndedBy = "cancel" if cancel.is_set() else "timeout"
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(asyncio.shield(exited), grace_s)
    except TimeoutError:
        _kill_group(process.pid)
        await exited
    return ended_by


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _read(stream: asyncio.StreamReader | None, sink: Callable[[bytes], None]) -> None:
    assert stream is not None
    while chunk := await stream.read(_READ_CHUNK):
        sink(chunk)


def _keep_tail(buffer: bytearray, data: bytes) -> None:
    buffer.extend(data)
    if len(buffer) > _STDERR_KEPT:
        del buffer[: len(buffer) - _STDERR_KEPT]


async def _write_prompt(process: asyncio.subprocess.Process, prompt: str) -> None:
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.write(prompt.encode("utf-8"))
        await process.stdin.drain()
        process.stdin.close()


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGKILL the child when the batch process dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the batch died before the hook ran
            os.kill(os.getpid(), signal.SIGKILL)

    return hook
