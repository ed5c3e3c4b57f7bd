"""A stdio MCP server process, started before the `mcp` SDK is imported.

Importing the SDK takes most of a second, and a server written in Python needs about as long to
start: spawning the process first lets both happen at once (on another core). `spawn` needs
nothing from the SDK; `streams` then connects the running process to a `ClientSession`: one
task reads the server's stdout, one JSON-RPC message per line, and hands each to the session;
another writes the session's messages to the server's stdin, one line each.

Stopping (`stop`, also when `streams` exits) follows the MCP shutdown order: close the server's
stdin, give it `EXIT_GRACE_S` to exit, then SIGTERM its process group, then SIGKILL. The server
runs in a session of its own (`start_new_session`), so the signals reach what it started too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from mcp.client._transport import TransportStreams

# How long the server gets to exit after its stdin closes, and after SIGTERM.
EXIT_GRACE_S = 2.0
_CHUNK = 1 << 16


class StdioProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.exit_grace_s = EXIT_GRACE_S
        self._stopping: asyncio.Task[None] | None = None

    @classmethod
    async def spawn(
        cls, argv: list[str], *, env: Mapping[str, str], cwd: Path, stderr: TextIO
    ) -> StdioProcess:
        """Start the server; raises `OSError` (e.g. a missing command or directory)."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
        return cls(process)

    @contextlib.asynccontextmanager
    async def streams(self) -> AsyncIterator[TransportStreams]:
        """The (read, write) pair a `ClientSession` takes; the server is stopped on exit."""
        import anyio
        from mcp.shared.message import SessionMessage

        to_session, read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write, from_session = anyio.create_memory_object_stream[SessionMessage](0)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._read_stdout, to_session)
            tasks.start_soon(self._write_stdin, from_session, to_session)
            try:
                yield read, write
            finally:
                with anyio.CancelScope(shield=True):
                    await self.stop()
                    for stream in (read, write, to_session, from_session):
                        await stream.aclose()
                tasks.cancel_scope.cancel()

    async def _read_stdout(self, to_session: Any) -> None:
        """Each line the server writes, parsed, to the session; its end closes the session's
        side. Once the session is gone, the rest is read and dropped (a server blocked on a
        full pipe could not exit)."""
        import anyio
        from mcp.shared.message import SessionMessage
        from mcp.types import jsonrpc_message_adapter

        stdout = self.process.stdout
        assert stdout is not None
        pending = b""
        listening = True
        async with to_session:
            while chunk := await stdout.read(_CHUNK):
                if not listening:
                    continue
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        message: Any = SessionMessage(jsonrpc_message_adapter.validate_json(line))
                    except ValueError as err:  # the session reports it; the line is skipped
                        message = err
                    try:
                        await to_session.send(message)
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        listening = False
                        break

    async def _write_stdin(self, from_session: Any, to_session: Any) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        async with from_session:
            try:
                async for message in from_session:
                    text = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    stdin.write(text.encode() + b"\n")
                    await stdin.drain()
            except (ConnectionError, OSError):
                # The server stopped reading: end the session rather than let a request hang.
                await to_session.aclose()

    async def stop(self) -> None:
        """Stop the server (once; callers after the first wait for the same stop)."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        for next_signal in (signal.SIGTERM, signal.SIGKILL, None):
            if await self._exited_within(self.exit_grace_s):
                return
            if next_signal is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, next_signal)

    async def _exited_within(self, seconds: float) -> bool:
        if self.process.returncode is not None:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.process.wait()), seconds)
        return self.process.returncode is not None
