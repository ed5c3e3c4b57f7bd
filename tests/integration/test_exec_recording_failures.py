"""`pycodex exec` when its session file cannot be written: one `ERROR:` line, exit 1, no hang.

Three ways the rollout file fails, each run with the CLI as a subprocess: a file named `sessions`
where the directory should be, a read-only `$CODEX_HOME`, and a full disk. The last two need a
mount: the child runs in a private mount namespace (`unshare`) where `$CODEX_HOME` is bind-mounted
read-only, or `sessions/` is a tiny tmpfs that is already full. Where no mount namespace can be
made, the read-only case is skipped for root (permission bits do not stop root) and the full disk
becomes a size limit on files the child writes (`RLIMIT_FSIZE`).

The fake server has no script: any model request would be a failure of the test (no model is paid
for a run whose record cannot be kept).
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import CliResult, cli_env

BASE = ["exec", "--skip-git-repo-check"]
# Far above the second the exit takes; only here so a regression fails instead of hanging CI.
HANG_LIMIT_S = 60


@functools.cache
def _unshare_prefix() -> tuple[str, ...] | None:
    """The command prefix that runs a child in its own mount namespace, if this machine has one."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = [unshare, "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--map-root-user"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return tuple(prefix) if probe.returncode == 0 else None


def _run(
    args: list[str],
    home: Path,
    cwd: Path,
    *,
    setup: str = "",
    preexec: Callable[[], None] | None = None,
) -> CliResult:
    """Run `pycodex` after `setup` (shell text) ran inside the child's mount namespace."""
    command: list[str] = [sys.executable, "-m", "pycodex", *args]
    if setup:
        prefix = _unshare_prefix()
        assert prefix is not None
        command = [*prefix, "sh", "-ec", f'{setup}\nexec "$@"', "sh", *command]
    proc = subprocess.run(
        command,
        input="",
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(home),
        timeout=HANG_LIMIT_S,
        preexec_fn=preexec,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def _assert_one_error_line(result: CliResult, reason: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("ERROR: cannot write session file ")
    assert errors[0].endswith(reason)
    assert result.stdout == ""


def _assert_json_failure(result: CliResult, reason: str) -> None:
    assert result.returncode == 1, result.stderr
    events = result.events()
    assert [event["type"] for event in events] == [
        "thread.started", "turn.started", "error", "turn.failed",
    ]  # fmt: skip
    message = events[2]["message"]
    assert message.startswith("cannot write session file ") and message.endswith(reason)
    assert events[3] == {"type": "turn.failed", "error": {"message": message}}
    assert "Traceback" not in result.stderr


def test_a_file_named_sessions(home: Path, work: Path) -> None:
    (home / "sessions").write_text("not a directory")
    human = _run([*BASE, "--color", "never", "hi"], home, work)
    _assert_one_error_line(human, ": Not a directory")
    jsonl = _run([*BASE, "--json", "hi"], home, work)
    _assert_json_failure(jsonl, ": Not a directory")
    assert (home / "sessions").read_text() == "not a directory"


def test_a_read_only_codex_home(home: Path, work: Path) -> None:
    if _unshare_prefix() is not None:
        setup = f"mount --bind '{home}' '{home}'\nmount -o remount,bind,ro '{home}'"
        result = _run([*BASE, "--color", "never", "hi"], home, work, setup=setup)
    elif os.geteuid() != 0:
        home.chmod(0o500)
        try:
            result = _run([*BASE, "--color", "never", "hi"], home, work)
        finally:
            home.chmod(0o700)
    else:
        pytest.skip("root without a mount namespace: nothing makes $CODEX_HOME read-only")
    reason = ": Read-only file system" if _unshare_prefix() else ": Permission denied"
    _assert_one_error_line(result, reason)
    assert not (home / "sessions").exists()


def test_a_full_disk(home: Path, work: Path) -> None:
    sessions = home / "sessions"
    sessions.mkdir()
    if _unshare_prefix() is not None:
        setup = (
            f"mount -t tmpfs -o size=64k tmpfs '{sessions}'\n"
            f"head -c 1048576 /dev/zero > '{sessions}/filler' 2>/dev/null || true"
        )
        result = _run([*BASE, "--json", "hi"], home, work, setup=setup)
        _assert_json_failure(result, ": No space left on device")
    else:

        def limit_file_size() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

        result = _run([*BASE, "--json", "hi"], home, work, preexec=limit_file_size)
        _assert_json_failure(result, ": File too large")
