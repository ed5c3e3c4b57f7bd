"""`pycodex exec` whose stdout cannot be written: one line on stderr, exit 141, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import sse_builders as sse
from support.cli import cli_env
from support.fake_server import FakeModelServer

BASE = ["exec", "--skip-git-repo-check"]
ERROR_LINE = "ERROR: cannot write to stdout: it is closed, or nobody reads it any more\n"


def _run_with_stdout(args: list[str], home: Path, cwd: Path, *, closed: bool) -> tuple[int, str]:
    """Run with stdout a pipe whose reader is already gone, or (`closed`) no stdout at all."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pycodex", *args],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=cli_env(home),
            timeout=60,
            preexec_fn=(lambda: os.close(1)) if closed else None,
        )
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr


def test_jsonl_to_a_pipe_nobody_reads_stops_before_the_model_is_asked(
    home: Path, work: Path
) -> None:
    code, err = _run_with_stdout([*BASE, "--json", "hi"], home, work, closed=False)
    assert code == 141
    assert err.endswith(ERROR_LINE) and err.count("ERROR:") == 1
    assert "Traceback" not in err and "Exception ignored" not in err


def test_final_message_to_a_pipe_nobody_reads(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("the answer"))
    code, err = _run_with_stdout([*BASE, "--color", "never", "hi"], home, work, closed=False)
    assert code == 141
    assert err.endswith(f"codex\nthe answer\ntokens used\n15\n{ERROR_LINE}")
    assert "Traceback" not in err and "Exception ignored" not in err


def test_a_closed_stdout_descriptor(home: Path, work: Path) -> None:
    for mode in (["--json"], []):
        code, err = _run_with_stdout([*BASE, *mode, "hi"], home, work, closed=True)
        assert (code, err) == (141, ERROR_LINE)
