"""Running handlers: `$SHELL -lc "<command>"` in the session's directory, the event's JSON on
stdin, concurrently, each with its timeout.

A handler that does not finish in time is killed with its whole process group. Cancelling the
caller (an interrupted turn) kills every running handler too. Handlers marked `async` are
started and not waited for; their output is ignored (upstream feeds it to a later turn).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from pycodex._records import dataclass
from pycodex.hooks.discovery import HookEntry

DEFAULT_SHELL = "/bin/bash"


@dataclass(frozen=True)
class HandlerRun:
    """How one handler ended: an exit code and its output, or `error` when it could not run
    or was killed."""

    handler: HookEntry
    exit_code: int | None
    stdout: str
    stderr: str
    error: str | None
    # 0 for the first handler of the batch to finish, 1 for the next...
    completion_order: int


class HookRunner:
    def __init__(self, cwd: Path, env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self._env = env
        # Async handlers still running, so they can be stopped when the session ends.
        self._background: set[asyncio.Task[HandlerRun]] = set()

    @property
    def shell(self) -> str:
        env = self._env if self._env is not None else os.environ
        return env.get("SHELL") or DEFAULT_SHELL

    async def run_all(self, handlers: Sequence[HookEntry], stdin: str) -> list[HandlerRun]:
        """Run every handler at once; results in configured order."""
        waited = [handler for handler in handlers if not handler.is_async]
        for handler in handlers:
            if handler.is_async:
                task = asyncio.create_task(self._run(handler, stdin, 0))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        finished: list[int] = []

        async def run(handler: HookEntry) -> HandlerRun:
            result = await self._run(handler, stdin, -1)
            order = len(finished)
            finished.append(order)
            return _with_order(result, order)

        return list(await asyncio.gather(*(run(handler) for handler in waited)))

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, handler: HookEntry, stdin: str, order: int) -> HandlerRun:
        try:
            process = await asyncio.create_subprocess_exec(
                self.shell,
                "-lc",
                handler.command,
                cwd=self.cwd,
                env=self._env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as problem:
            return HandlerRun(handler, None, "", "", f"cannot start: {problem}", order)
        try:
            out, err = await asyncio.wait_for(
                process.communicate(stdin.encode("utf-8")), handler.timeout_s
            )
        except TimeoutError:
            await _kill(process)
            message = f"timed out after {handler.timeout_s}s"
            return HandlerRun(handler, None, "", "", message, order)
        except BaseException:
            await _kill(process)
            raise
        stdout = out.decode("utf-8", "replace")
        stderr = err.decode("utf-8", "replace")
        return HandlerRun(handler, process.returncode, stdout, stderr, None, order)


def _with_order(run: HandlerRun, order: int) -> HandlerRun:
    return HandlerRun(run.handler, run.exit_code, run.stdout, run.stderr, run.error, order)


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _kill(process: asyncio.subprocess.Process) -> None:
    _kill_group(process)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()
