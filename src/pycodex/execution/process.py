"""One-shot commands: run to completion or until a timeout, capturing bounded output.

Used by the `shell` and `shell_command` tools and anything else that needs a command's result
rather than a live session. The child leads its own process group; on timeout, or when the
awaiting task is cancelled (an interrupted turn), the whole group is killed and the child reaped
before control returns, so no process outlives the call that started it.

Background processes a command leaves behind are not killed when it exits normally (starting a
server with `nohup … &` must keep working), but pycodex stops reading their output after a short
drain period instead of waiting for them to close the pipes.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pycodex._records import dataclass
from pycodex.execution.capture import DEFAULT_CAPTURE_LIMIT_CHARS, HeadTailText, Utf8Sink
from pycodex.execution.fdio import FdReader
from pycodex.execution.spawn import (
    IO_DRAIN_TIMEOUT_S,
    KILL_GRACE_S,
    SpawnedChild,
    StdinMode,
    exit_code_from_returncode,
    kill_process_group,
    signal_process_group,
    spawn_piped,
)
from pycodex.protocol.policies import SandboxPolicy

# What `timeout(1)` exits with; upstream Codex reports the same for a command it timed out.
TIMEOUT_EXIT_CODE = 124


@dataclass(frozen=True, slots=True)
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str
    aggregated_output: str
    duration_s: float
    timed_out: bool


class _Capture:
    """Separate stdout and stderr buffers plus one holding both in arrival order."""

    def __init__(self, limit_chars: int) -> None:
        self.stdout = HeadTailText(limit_chars)
        self.stderr = HeadTailText(limit_chars)
        self.aggregated = HeadTailText(limit_chars)
        self.stdout_sink = Utf8Sink(self.stdout, also=self.aggregated)
        self.stderr_sink = Utf8Sink(self.stderr, also=self.aggregated)

    def readers(self, child: SpawnedChild) -> list[FdReader]:
        readers = [FdReader(child.output_fd, self.stdout_sink.feed)]
        if child.stderr_fd is not None:
            readers.append(FdReader(child.stderr_fd, self.stderr_sink.feed))
        return readers

    def flush(self) -> None:
        self.stdout_sink.flush()
        self.stderr_sink.flush()


async def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    sandbox: SandboxPolicy,
    timeout_ms: int | None,
    stdin_devnull: bool = True,
    output_limit_chars: int = DEFAULT_CAPTURE_LIMIT_CHARS,
) -> CommandResult:
    """Run `argv` to completion (or `timeout_ms`) and return its exit code and output.

    stdin is /dev/null unless `stdin_devnull` is False, in which case the child inherits this
    process's stdin. Each of stdout, stderr and their interleaving keeps at most
    `output_limit_chars` characters (head and tail). A command killed by signal N reports
    128 + N; a timed-out one reports 124 with `timed_out` set. Spawn failures (missing program
    or directory) raise OSError.
    """
    started = time.monotonic()
    child = await spawn_piped(
        argv,
        cwd=cwd,
        env=env,
        sandbox=sandbox,
        merge_stderr=False,
        stdin=StdinMode.DEVNULL if stdin_devnull else StdinMode.INHERIT,
    )
    capture = _Capture(output_limit_chars)
    readers: list[FdReader] = []
    try:
        readers = capture.readers(child)
        timed_out = await _supervise(child, readers, timeout_ms)
    except asyncio.CancelledError:
        await _kill_on_cancel(child)
        raise
    finally:
        for reader in readers:
            reader.stop()
        child.close()
    capture.flush()
    returncode = child.process.returncode
    return CommandResult(
        exit_code=TIMEOUT_EXIT_CODE
        if timed_out or returncode is None
        else exit_code_from_returncode(returncode),
        stdout=capture.stdout.take().joined(),
        stderr=capture.stderr.take().joined(),
        aggregated_output=capture.aggregated.take().joined(),
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
    )


async def _supervise(child: SpawnedChild, readers: list[FdReader], timeout_ms: int | None) -> bool:
    """Wait for exit (killing the group on timeout), then drain output. True if timed out."""
    timeout_s = None if timeout_ms is None else max(timeout_ms, 0) / 1000
    timed_out = False
    try:
        async with asyncio.timeout(timeout_s):
            await child.process.wait()
    except TimeoutError:
        timed_out = True
        await kill_process_group(child.process, KILL_GRACE_S)
    drain_deadline = asyncio.get_running_loop().time() + IO_DRAIN_TIMEOUT_S
    for reader in readers:
        remaining = drain_deadline - asyncio.get_running_loop().time()
        await reader.wait_eof(max(remaining, 0))
    return timed_out


async def _kill_on_cancel(child: SpawnedChild) -> None:
    # No grace period: whoever cancelled wants control back now. The kill is sent before the
    # first await so it happens even if this task is cancelled again while reaping. A leader
    # that was already reaped means the command had finished; its group id is no longer ours.
    if child.process.returncode is None:
        signal_process_group(child.process, signal.SIGKILL)
        await kill_process_group(child.process, grace_s=0)
