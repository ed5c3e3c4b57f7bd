"""`run_command` against real processes: output, exit codes, timeouts, cancellation, caps."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from execution_helpers import ControlFifo, ExitWatch

from pycodex.execution.process import CommandResult, run_command
from pycodex.protocol.policies import SandboxPolicy


async def run(script: str, cwd: Path, **kwargs: object) -> CommandResult:
    timeout_ms = kwargs.pop("timeout_ms", 10_000)
    assert isinstance(timeout_ms, int | None)
    return await run_command(
        ["sh", "-c", script],
        cwd=cwd,
        env=dict(os.environ),
        sandbox=SandboxPolicy.full_access(),
        timeout_ms=timeout_ms,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_separate_streams_and_interleaved_output(tmp_path: Path) -> None:
    result = await run("echo out; sleep 0.1; echo err >&2; sleep 0.1; echo out2; exit 3", tmp_path)
    assert result.exit_code == 3
    assert result.stdout == "out\nout2\n"
    assert result.stderr == "err\n"
    assert result.aggregated_output == "out\nerr\nout2\n"
    assert not result.timed_out
    assert 0.2 <= result.duration_s < 5


async def test_runs_in_cwd_with_the_given_env(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "GREETING": "bonjour"}
    result = await run_command(
        ["sh", "-c", 'echo "$GREETING $(pwd)"'],
        cwd=tmp_path,
        env=env,
        sandbox=SandboxPolicy.read_only(),
        timeout_ms=None,
    )
    assert result.stdout == f"bonjour {tmp_path}\n"


async def test_signal_death_reports_128_plus_signal(tmp_path: Path) -> None:
    result = await run("kill -TERM $$", tmp_path)
    assert result.exit_code == 128 + signal.SIGTERM


async def test_stdin_is_devnull_by_default(tmp_path: Path) -> None:
    result = await run("cat; echo done", tmp_path)
    assert (result.exit_code, result.stdout) == (0, "done\n")


async def test_timeout_kills_the_whole_process_group(tmp_path: Path, exit_watch: ExitWatch) -> None:
    result = await run("sleep 100 & echo $!; echo $$; sleep 100", tmp_path, timeout_ms=300)
    assert result.timed_out
    assert result.exit_code == 124
    assert result.duration_s < 5
    pids = [int(line) for line in result.stdout.split()]
    assert len(pids) == 2
    exit_watch.watch(*pids)
    await exit_watch.wait_all_exited()


async def test_cancellation_kills_the_whole_process_group(
    tmp_path: Path, exit_watch: ExitWatch, control_fifo: ControlFifo
) -> None:
    script = 'sleep 100 & echo "$! $$" > "$0"; sleep 100'
    task = asyncio.create_task(
        run_command(
            ["sh", "-c", script, str(control_fifo.path)],
            cwd=tmp_path,
            env=dict(os.environ),
            sandbox=SandboxPolicy.full_access(),
            timeout_ms=None,
        )
    )
    pids = [int(pid) for pid in (await control_fifo.read_line()).split()]
    exit_watch.watch(*pids)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await exit_watch.wait_all_exited()


async def test_background_child_holding_the_pipe_does_not_block_return(tmp_path: Path) -> None:
    result = await run("sleep 30 & echo $!", tmp_path)
    background = int(result.stdout)
    try:
        assert result.exit_code == 0
        assert result.duration_s < 5
    finally:
        os.kill(background, signal.SIGKILL)


async def test_huge_output_is_capped_to_head_and_tail(tmp_path: Path) -> None:
    script = "import sys; sys.stdout.write('START' + 'a' * 3_000_000 + 'END')"
    result = await run_command(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=dict(os.environ),
        sandbox=SandboxPolicy.full_access(),
        timeout_ms=10_000,
        output_limit_chars=1000,
    )
    assert result.stdout.startswith("START")
    assert result.stdout.endswith("aaEND")
    assert "2999008 characters omitted" in result.stdout
    assert len(result.stdout) < 1100
    assert result.aggregated_output == result.stdout


async def test_invalid_utf8_is_replaced(tmp_path: Path) -> None:
    result = await run(r"printf '\377abc\n'", tmp_path)
    assert result.stdout == "\ufffdabc\n"


async def test_missing_directory_raises_without_leaking_descriptors(tmp_path: Path) -> None:
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(FileNotFoundError):
        await run("true", tmp_path / "missing")
    assert set(os.listdir("/proc/self/fd")) == before
