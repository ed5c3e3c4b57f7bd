"""Starting a child in its own session and process group, and killing that group.

Every child is a session leader (`start_new_session`), so a timeout, an interrupt or engine
shutdown can signal the whole tree it started with one `killpg`, and a shell's background jobs do
not outlive the command. Children run either on pipes or on a pseudo-terminal whose slave is their
controlling terminal, so `isatty()` is true and job control and `/dev/tty` work.

All commands pass through `sandbox.prepare_command` here, so confinement changes one place.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import signal
import struct
import subprocess
import termios
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path

from pycodex._records import dataclass, field
from pycodex.execution.sandbox import prepare_command
from pycodex.protocol.policies import SandboxPolicy

# Time a process group gets to exit on SIGTERM before SIGKILL.
KILL_GRACE_S = 0.5
# How long output may keep arriving after the child exited (from grandchildren sharing its
# pipes or terminal) before pycodex stops reading; upstream Codex uses a similar drain window.
IO_DRAIN_TIMEOUT_S = 1.0
# A safety net only: a SIGKILLed process is reaped at once unless stuck in the kernel.
_REAP_TIMEOUT_S = 5.0
TERMINAL_ROWS = 24
TERMINAL_COLUMNS = 80


class StdinMode(Enum):
    DEVNULL = "devnull"
    INHERIT = "inherit"


@dataclass(eq=False)
class SpawnedChild:
    """A running child and the parent's ends of its descriptors (all non-blocking).

    `output_fd` carries stdout (and stderr when merged, or everything on a PTY); `stderr_fd` is
    set only when stderr has its own pipe; `input_fd` is the PTY master when there is one.
    """

    process: asyncio.subprocess.Process
    output_fd: int
    stderr_fd: int | None
    input_fd: int | None
    tty: bool
    sandboxed: bool
    _open_fds: set[int] = field(default_factory=set)

    @property
    def pid(self) -> int:
        return self.process.pid

    def close(self) -> None:
        """Close the parent's descriptors; safe to call more than once."""
        while self._open_fds:
            os.close(self._open_fds.pop())


def exit_code_from_returncode(returncode: int) -> int:
    """A shell-style exit status: 128 + N for a child killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


async def spawn_piped(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    sandbox: SandboxPolicy,
    merge_stderr: bool,
    stdin: StdinMode = StdinMode.DEVNULL,
) -> SpawnedChild:
    """Start `argv` with stdout (and stderr, separately unless `merge_stderr`) on pipes."""
    out_read, out_write = os.pipe()
    err_read, err_write = (None, None) if merge_stderr else os.pipe()
    child_side = [out_write] + ([] if err_write is None else [err_write])
    parent_side = [out_read] + ([] if err_read is None else [err_read])
    stdin_arg = subprocess.DEVNULL if stdin is StdinMode.DEVNULL else None
    try:
        process, sandboxed = await _launch(
            argv,
            cwd,
            env,
            sandbox,
            stdin=stdin_arg,
            stdout=out_write,
            stderr=out_write if err_write is None else err_write,
        )
    except BaseException:
        _close_all(parent_side)
        raise
    finally:
        # The child holds its own copies; ours would keep the pipes from reaching end of file.
        _close_all(child_side)
    for fd in parent_side:
        os.set_blocking(fd, False)
    return SpawnedChild(
        process,
        out_read,
        err_read,
        None,
        tty=False,
        sandboxed=sandboxed,
        _open_fds=set(parent_side),
    )


async def spawn_pty(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], sandbox: SandboxPolicy
) -> SpawnedChild:
    """Start `argv` on a new pseudo-terminal that becomes its controlling terminal."""
    master, slave = os.openpty()
    try:
        _set_window_size(slave, TERMINAL_ROWS, TERMINAL_COLUMNS)
        process, sandboxed = await _launch(
            argv,
            cwd,
            env,
            sandbox,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            preexec_fn=_TAKE_CONTROLLING_TERMINAL,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        # Once the child's copies are the only ones left, the master reads EIO when it is done.
        os.close(slave)
    os.set_blocking(master, False)
    return SpawnedChild(
        process, master, None, master, tty=True, sandboxed=sandboxed, _open_fds={master}
    )


# Runs in the forked child after setsid() and the dup2 of the slave onto fd 0. It is a partial of
# a C function, bound in the parent, because Python code run between fork and exec must not need
# locks (imports, allocation-heavy work) that another thread might have held at fork time.
_TAKE_CONTROLLING_TERMINAL = functools.partial(fcntl.ioctl, 0, termios.TIOCSCTTY, 0)


async def _launch(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    sandbox: SandboxPolicy,
    *,
    stdin: int | None,
    stdout: int,
    stderr: int,
    preexec_fn: Callable[[], object] | None = None,
) -> tuple[asyncio.subprocess.Process, bool]:
    prepared = prepare_command(argv, cwd, sandbox)
    try:
        process = await asyncio.create_subprocess_exec(
            *prepared.argv,
            cwd=cwd,
            env={**env, **prepared.env_overrides},
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=preexec_fn,
            pass_fds=prepared.pass_fds,
        )
    finally:
        prepared.close()  # the child holds its own copies
    return process, prepared.enforced


def _set_window_size(fd: int, rows: int, columns: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def signal_process_group(process: asyncio.subprocess.Process, signum: int) -> None:
    """Send `signum` to the child's process group, ignoring a group that is already gone."""
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


async def kill_process_group(process: asyncio.subprocess.Process, grace_s: float) -> None:
    """End the child's whole process group and reap the child.

    SIGTERM first so programs can clean up, then SIGKILL after `grace_s` for anything left,
    including grandchildren that ignored SIGTERM and jobs that an interactive shell moved to
    process groups of their own within the child's session. A group whose leader has already
    been reaped is left alone: its id could by now belong to an unrelated process group.
    """
    if process.returncode is not None:
        return
    if grace_s > 0:
        signal_process_group(process, signal.SIGTERM)
        try:
            async with asyncio.timeout(grace_s):
                await process.wait()
        except TimeoutError:
            pass
    signal_process_group(process, signal.SIGKILL)
    kill_session_members(process.pid)
    try:
        async with asyncio.timeout(_REAP_TIMEOUT_S):
            await process.wait()
    except TimeoutError:
        pass


def kill_session_members(session_id: int) -> None:
    """SIGKILL every process of session `session_id` (Linux, via /proc; elsewhere a no-op).

    Needed because a job-control shell on a terminal puts each background job in its own
    process group, out of reach of `killpg`; they all stay in the shell's session.
    """
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if entry.isdigit() and _session_of(entry) == session_id:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _session_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            stat = stat_file.read()
    except OSError:
        return None
    # The command name in parentheses may contain spaces; fields after it are: state, ppid,
    # pgrp, session, ...
    fields = stat.rpartition(b")")[2].split()
    return int(fields[3]) if len(fields) > 3 else None
