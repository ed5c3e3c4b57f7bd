"""The unified-exec process manager behind the `exec_command` and `write_stdin` tools.

`start` launches a command and waits until it exits or its yield time passes, whichever comes
first, then returns the output so far. A command still running at that point keeps a session id;
`write_stdin` sends it keystrokes (or just polls, with empty `chars`) and returns the output
produced since the previous read. A session is forgotten once its final output has been returned.

stdin: with `tty=True` the command runs on a pseudo-terminal and `write_stdin` types into it.
Without a terminal, stdin is /dev/null (as upstream Codex does): a command that unexpectedly
reads input gets end of file at once instead of hanging for the whole session, and sending input
to such a session raises `StdinClosedError`, whose message tells the model to use `tty=true`.
stdout and stderr share one pipe so their interleaving is preserved.

At most `max_sessions` sessions are kept; starting one more kills the least recently used
(exited ones first) and the next chunk returned carries a notice naming it.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pycodex._records import dataclass
from pycodex.execution.session import (
    ExecSession,
    ExecSessionError,
    StdinClosedError,
    UnknownSessionError,
)
from pycodex.execution.spawn import signal_process_group, spawn_piped, spawn_pty
from pycodex.execution.truncate import BYTES_PER_TOKEN, truncate_middle
from pycodex.protocol.policies import SandboxPolicy

__all__ = [
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "ExecChunk",
    "ExecSessionError",
    "ProcessManager",
    "StdinClosedError",
    "UnknownSessionError",
    "format_exec_output",
]

DEFAULT_MAX_OUTPUT_TOKENS = 10_000
DEFAULT_MAX_SESSIONS = 64
MIN_YIELD_TIME_MS = 250
MAX_YIELD_TIME_MS = 30_000
MAX_POLL_YIELD_TIME_MS = 300_000
FIRST_SESSION_ID = 1000


@dataclass(frozen=True, slots=True)
class ExecChunk:
    """What one `exec_command` or `write_stdin` call returns.

    `session_id` is set only while the process is still running; `exit_code` only once it exited.
    """

    chunk_id: str
    wall_time_s: float
    exit_code: int | None
    session_id: int | None
    output: str
    original_token_count: int
    pruned_notice: str | None = None


def format_exec_output(chunk: ExecChunk) -> str:
    """The text the model receives for a chunk (the contract's shell-tool output format)."""
    if chunk.exit_code is not None:
        status = f"Process exited with code {chunk.exit_code}"
    else:
        status = f"Process running with session ID {chunk.session_id}"
    lines = [
        f"Chunk ID: {chunk.chunk_id}",
        f"Wall time: {chunk.wall_time_s:.4f} seconds",
        status,
        f"Original token count: {chunk.original_token_count}",
    ]
    if chunk.pruned_notice:
        lines.append(f"Note: {chunk.pruned_notice}")
    lines.append("Output:")
    return "\n".join(lines) + "\n" + chunk.output


def _clamp_ms(value: int, low: int, high: int) -> float:
    return min(max(value, low), high) / 1000


class ProcessManager:
    """Owns every exec session of one engine; call `shutdown` when the engine stops."""

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self._max_sessions = max_sessions
        self._sessions: dict[int, ExecSession] = {}
        self._session_ids = itertools.count(FIRST_SESSION_ID)
        self._use_clock = itertools.count()
        self._notices: list[str] = []

    def live_session_ids(self) -> list[int]:
        """Ids `write_stdin` accepts: running sessions and exited ones with unread output."""
        return sorted(self._sessions)

    async def start(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        sandbox: SandboxPolicy,
        tty: bool,
        yield_time_ms: int,
        max_output_tokens: int | None,
    ) -> ExecChunk:
        """Run `argv` and return its output after it exits or `yield_time_ms` (250–30000) pass.

        Spawn failures (missing program or directory) raise OSError.
        """
        started = time.monotonic()
        yield_s = _clamp_ms(yield_time_ms, MIN_YIELD_TIME_MS, MAX_YIELD_TIME_MS)
        await self._make_room()
        if tty:
            child = await spawn_pty(argv, cwd=cwd, env=env, sandbox=sandbox)
        else:
            child = await spawn_piped(argv, cwd=cwd, env=env, sandbox=sandbox, merge_stderr=True)
        session = ExecSession(next(self._session_ids), child)
        self._sessions[session.session_id] = session
        try:
            async with session.lock:
                return await self._collect(session, started, yield_s, max_output_tokens)
        except asyncio.CancelledError:
            # The caller never learnt the session id, so nobody could ever stop this process.
            self._sessions.pop(session.session_id, None)
            if child.process.returncode is None:
                signal_process_group(child.process, signal.SIGKILL)
            await session.kill()
            raise

    async def write_stdin(
        self,
        session_id: int,
        chars: str,
        *,
        yield_time_ms: int,
        max_output_tokens: int | None,
    ) -> ExecChunk:
        """Type `chars` into a session (empty: only poll) and return the output since last read.

        Waits until the process exits or `yield_time_ms` pass: 250–30000 ms after sending input,
        up to 300000 ms for an empty poll. Raises `UnknownSessionError` for an id that is not (or
        no longer) a session, `StdinClosedError` when sending input to a session without a tty.
        """
        started = time.monotonic()
        ceiling = MAX_YIELD_TIME_MS if chars else MAX_POLL_YIELD_TIME_MS
        yield_s = _clamp_ms(yield_time_ms, MIN_YIELD_TIME_MS, ceiling)
        session = self._session(session_id)
        async with session.lock:
            # Another call may have returned the final output while this one waited for the lock.
            session = self._session(session_id)
            if chars:
                await session.write(chars, yield_s)
            return await self._collect(session, started, yield_s, max_output_tokens)

    async def terminate(self, session_id: int) -> None:
        """Kill a session's process group and forget the session (its unread output is lost)."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            raise UnknownSessionError(session_id)
        await session.kill()

    async def shutdown(self) -> None:
        """Kill every session's process group. The manager can be used again afterwards."""
        sessions = list(self._sessions.values())
        self._sessions.clear()
        # Concurrently, so processes that ignore SIGTERM cost one grace period, not one each.
        await asyncio.gather(*(session.kill() for session in sessions))

    def _session(self, session_id: int) -> ExecSession:
        session = self._sessions.get(session_id)
        if session is None:
            raise UnknownSessionError(session_id)
        return session

    async def _make_room(self) -> None:
        while len(self._sessions) >= self._max_sessions:
            victim = min(self._sessions.values(), key=lambda s: (not s.finished, s.last_used))
            del self._sessions[victim.session_id]
            await victim.kill()
            self._notices.append(
                f"session {victim.session_id} was terminated because at most "
                f"{self._max_sessions} exec sessions may be open at once and it was the least "
                "recently used"
            )

    async def _collect(
        self, session: ExecSession, started: float, yield_s: float, max_output_tokens: int | None
    ) -> ExecChunk:
        session.last_used = next(self._use_clock)
        finished = await session.wait_finished(started + yield_s - time.monotonic())
        captured = session.take_output()
        if finished:
            self._sessions.pop(session.session_id, None)
        budget = DEFAULT_MAX_OUTPUT_TOKENS if max_output_tokens is None else max_output_tokens
        truncated = truncate_middle(captured.joined(), max(budget, 0))
        omitted_tokens = -(-captured.omitted_chars // BYTES_PER_TOKEN)
        notice = "; ".join(self._notices) or None
        self._notices.clear()
        return ExecChunk(
            chunk_id=secrets.token_hex(3),
            wall_time_s=time.monotonic() - started,
            exit_code=session.exit_code if finished else None,
            session_id=None if finished else session.session_id,
            output=truncated.text,
            original_token_count=truncated.original_token_count + omitted_tokens,
            pruned_notice=notice,
        )
