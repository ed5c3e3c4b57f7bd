"""`notify`: the program gets the turn as its last argument, is not waited for, and is reaped
(no zombie) by its own daemon thread."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from pycodex.hooks.notify import TurnNotice, notify


def test_the_program_runs_with_the_json_last_and_is_reaped(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    script = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.argv[-1])"
    notice = TurnNotice("thread-1", "turn-1", tmp_path, "pycodex_exec", ("hi",), "done")
    started = notify([sys.executable, "-c", script, str(out)], notice)
    started.reaper.join(timeout=60)
    assert not started.reaper.is_alive()
    assert json.loads(out.read_text()) == {
        "type": "agent-turn-complete", "thread-id": "thread-1", "turn-id": "turn-1",
        "cwd": str(tmp_path), "client": "pycodex_exec", "input-messages": ["hi"],
        "last-assistant-message": "done",
    }  # fmt: skip
    with pytest.raises(ChildProcessError):  # already reaped: nothing left to wait for
        os.waitpid(started.pid, os.WNOHANG)


def test_a_missing_program_raises_os_error(tmp_path: Path) -> None:
    notice = TurnNotice("t", "u", tmp_path, "pycodex_exec", (), None)
    with pytest.raises(OSError):
        notify([str(tmp_path / "missing")], notice)
