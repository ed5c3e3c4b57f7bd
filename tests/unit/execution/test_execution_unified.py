"""`ProcessManager` against real processes and real pseudo-terminals."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from execution_helpers import ControlFifo, ExitWatch

from pycodex.execution.truncate import approx_token_count
from pycodex.execution.unified import (
    ExecChunk,
    ProcessManager,
    StdinClosedError,
    UnknownSessionError,
    format_exec_output,
)
from pycodex.protocol.policies import SandboxPolicy


@pytest.fixture
async def manager() -> AsyncIterator[ProcessManager]:
    processes = ProcessManager()
    yield processes
    await processes.shutdown()


async def start(
    processes: ProcessManager,
    argv: Sequence[str],
    cwd: Path,
    *,
    tty: bool = False,
    yield_time_ms: int = 10_000,
    max_output_tokens: int | None = None,
) -> ExecChunk:
    return await processes.start(
        argv,
        cwd=cwd,
        env=dict(os.environ),
        sandbox=SandboxPolicy.full_access(),
        tty=tty,
        yield_time_ms=yield_time_ms,
        max_output_tokens=max_output_tokens,
    )


async def poll_until(
    processes: ProcessManager, session_id: int, pattern: str, seen: str = ""
) -> str:
    """Poll a session until `seen` plus its new output matches `pattern` (5 s safety net)."""
    deadline = time.monotonic() + 5
    while not re.search(pattern, seen):
        assert time.monotonic() < deadline, f"never saw {pattern!r}; got {seen!r}"
        chunk = await processes.write_stdin(
            session_id, "", yield_time_ms=250, max_output_tokens=None
        )
        seen += chunk.output
    return seen


async def test_short_command_returns_output_and_exit_code(
    manager: ProcessManager, tmp_path: Path
) -> None:
    chunk = await start(manager, ["sh", "-c", "echo hello; echo oops >&2; exit 7"], tmp_path)
    assert chunk.exit_code == 7
    assert chunk.session_id is None
    assert chunk.output == "hello\noops\n"
    assert chunk.original_token_count == approx_token_count("hello\noops\n")
    assert re.fullmatch(r"[0-9a-f]{6}", chunk.chunk_id)
    assert chunk.wall_time_s < 5  # returned at exit, not after the 10 s yield
    assert manager.live_session_ids() == []


async def test_running_command_keeps_a_session_and_is_polled_to_completion(
    manager: ProcessManager, tmp_path: Path, control_fifo: ControlFifo
) -> None:
    script = 'echo start; read word < "$0"; echo "got $word"'
    first = await start(
        manager, ["sh", "-c", script, str(control_fifo.path)], tmp_path, yield_time_ms=1
    )
    assert first.exit_code is None
    assert first.session_id is not None
    assert first.output == "start\n"
    assert first.wall_time_s >= 0.25  # yield times are clamped to at least 250 ms
    assert manager.live_session_ids() == [first.session_id]

    control_fifo.send("go\n")
    final = await manager.write_stdin(
        first.session_id, "", yield_time_ms=10_000, max_output_tokens=None
    )
    assert (final.exit_code, final.session_id, final.output) == (0, None, "got go\n")
    assert final.wall_time_s < 5
    assert manager.live_session_ids() == []
    with pytest.raises(UnknownSessionError, match=f"Unknown session id {first.session_id}"):
        await manager.write_stdin(first.session_id, "", yield_time_ms=250, max_output_tokens=None)


async def test_input_to_a_session_without_tty_is_refused(
    manager: ProcessManager, tmp_path: Path
) -> None:
    chunk = await start(manager, ["sleep", "30"], tmp_path, yield_time_ms=250)
    assert chunk.session_id is not None
    with pytest.raises(StdinClosedError, match="tty=true"):
        await manager.write_stdin(chunk.session_id, "hi\n", yield_time_ms=250, max_output_tokens=0)


async def test_interactive_pty_session_over_several_writes(
    manager: ProcessManager, tmp_path: Path
) -> None:
    script = (
        '[ -t 0 ] && [ -t 1 ] && echo IS-A-TTY; printf "name? "; read name; echo "hello $name";'
        ' read other; echo "bye $other"; exit 5'
    )
    first = await start(manager, ["sh", "-c", script], tmp_path, tty=True, yield_time_ms=250)
    assert first.session_id is not None
    session_id = first.session_id
    seen = await poll_until(manager, session_id, "name\\? ", first.output)
    assert "IS-A-TTY\r\n" in seen

    chunk = await manager.write_stdin(
        session_id, "Ada\n", yield_time_ms=250, max_output_tokens=None
    )
    seen = await poll_until(manager, session_id, "hello Ada", chunk.output)
    assert "Ada\r\n" in seen  # the terminal echoes what was typed

    final = await manager.write_stdin(
        session_id, "now\n", yield_time_ms=10_000, max_output_tokens=None
    )
    assert final.exit_code == 5
    assert final.session_id is None
    assert "bye now\r\n" in final.output


async def test_python_repl_on_a_controlling_terminal(
    manager: ProcessManager, tmp_path: Path
) -> None:
    first = await start(manager, [sys.executable, "-q"], tmp_path, tty=True, yield_time_ms=250)
    assert first.session_id is not None
    code = "import os, sys; print(sys.stdin.isatty(), os.open('/dev/tty', os.O_RDWR) > 0)\n"
    chunk = await manager.write_stdin(
        first.session_id, code, yield_time_ms=250, max_output_tokens=None
    )
    await poll_until(manager, first.session_id, "True True", chunk.output)
    final = await manager.write_stdin(
        first.session_id, "exit()\n", yield_time_ms=10_000, max_output_tokens=None
    )
    assert final.exit_code == 0


async def test_shutdown_kills_every_process_group(tmp_path: Path, exit_watch: ExitWatch) -> None:
    processes = ProcessManager()
    try:
        piped = await start(
            processes,
            ["sh", "-c", "sleep 100 & echo $!; echo $$; wait"],
            tmp_path,
            yield_time_ms=250,
        )
        exit_watch.watch(*(int(pid) for pid in piped.output.split()))
        shell = await start(
            processes,
            ["bash", "--noprofile", "--norc", "-i"],
            tmp_path,
            tty=True,
            yield_time_ms=250,
        )
        assert shell.session_id is not None
        # A job-control shell gives the job its own process group; it must die all the same.
        typed = await processes.write_stdin(
            shell.session_id, "sleep 100 & echo JOB=$!\n", yield_time_ms=250, max_output_tokens=None
        )
        seen = await poll_until(processes, shell.session_id, r"JOB=\d+", typed.output)
        job = re.search(r"JOB=(\d+)", seen)
        assert job is not None
        exit_watch.watch(int(job.group(1)))
    finally:
        await processes.shutdown()
    await exit_watch.wait_all_exited()
    assert processes.live_session_ids() == []


async def test_terminate_kills_one_session(
    manager: ProcessManager, tmp_path: Path, exit_watch: ExitWatch
) -> None:
    chunk = await start(
        manager, ["sh", "-c", "echo $$; exec sleep 100"], tmp_path, yield_time_ms=250
    )
    assert chunk.session_id is not None
    exit_watch.watch(int(chunk.output))
    await manager.terminate(chunk.session_id)
    await exit_watch.wait_all_exited()
    with pytest.raises(UnknownSessionError):
        await manager.terminate(chunk.session_id)


async def test_least_recently_used_session_is_pruned(tmp_path: Path, exit_watch: ExitWatch) -> None:
    processes = ProcessManager(max_sessions=2)
    argv = ["sh", "-c", "echo $$; exec sleep 100"]
    try:
        a = await start(processes, argv, tmp_path, yield_time_ms=250)
        b = await start(processes, argv, tmp_path, yield_time_ms=250)
        assert a.session_id is not None and b.session_id is not None
        exit_watch.watch(int(b.output))
        polled = await processes.write_stdin(
            a.session_id, "", yield_time_ms=250, max_output_tokens=None
        )
        assert polled.pruned_notice is None

        c = await start(processes, argv, tmp_path, yield_time_ms=250)
        assert c.pruned_notice is not None
        assert f"session {b.session_id} " in c.pruned_notice
        assert processes.live_session_ids() == [a.session_id, c.session_id]
        await exit_watch.wait_all_exited()
        with pytest.raises(UnknownSessionError):
            await processes.write_stdin(b.session_id, "", yield_time_ms=250, max_output_tokens=0)
        later = await processes.write_stdin(
            a.session_id, "", yield_time_ms=250, max_output_tokens=None
        )
        assert later.pruned_notice is None
    finally:
        await processes.shutdown()


async def test_large_output_keeps_head_and_tail(manager: ProcessManager, tmp_path: Path) -> None:
    script = "for i in range(3000): print(f'line {i}')"
    chunk = await start(manager, [sys.executable, "-c", script], tmp_path, max_output_tokens=50)
    full = "".join(f"line {i}\n" for i in range(3000))
    assert chunk.exit_code == 0
    assert chunk.original_token_count == approx_token_count(full)
    assert chunk.output.startswith("line 0\nline 1\n")
    assert chunk.output.endswith("line 2998\nline 2999\n")
    assert re.search(r"^…\d+ tokens truncated…$", chunk.output, re.MULTILINE)
    assert approx_token_count(chunk.output) < 60


async def test_invalid_utf8_output_is_replaced(manager: ProcessManager, tmp_path: Path) -> None:
    chunk = await start(manager, ["printf", r"\377\376ok"], tmp_path)
    assert (chunk.exit_code, chunk.output) == (0, "\ufffd\ufffdok")


def test_format_exec_output_for_exited_and_running_chunks() -> None:
    exited = ExecChunk("1a2b3c", 0.01234, 0, None, "hi\n", 1)
    assert format_exec_output(exited) == (
        "Chunk ID: 1a2b3c\nWall time: 0.0123 seconds\nProcess exited with code 0\n"
        "Original token count: 1\nOutput:\nhi\n"
    )
    running = ExecChunk("ffffff", 2.5, None, 1004, "", 0)
    assert format_exec_output(running) == (
        "Chunk ID: ffffff\nWall time: 2.5000 seconds\nProcess running with session ID 1004\n"
        "Original token count: 0\nOutput:\n"
    )


async def test_cancelled_start_kills_the_process(
    manager: ProcessManager, tmp_path: Path, exit_watch: ExitWatch, control_fifo: ControlFifo
) -> None:
    argv = ["sh", "-c", 'echo $$ > "$0"; exec sleep 100', str(control_fifo.path)]
    task = asyncio.create_task(start(manager, argv, tmp_path, yield_time_ms=30_000))
    exit_watch.watch(int(await control_fifo.read_line()))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await exit_watch.wait_all_exited()
    assert manager.live_session_ids() == []
