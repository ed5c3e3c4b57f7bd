"""Hooks cost nothing when none are configured: a `pycodex exec` without hooks or `notify`
imports nothing of them (`python -X importtime` lists every module a run imports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import sse_builders as sse
from support.cli import cli_env
from support.fake_server import FakeModelServer
from support.hooks import hook_group

HOOK_MODULES = ("pycodex.hooks", "pycodex.agent.hook_points", "pycodex.agent.hook_tools", "tomlkit")


def imported_modules(home: Path, work: Path) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pycodex", "exec", "--skip-git-repo-check",
         "--json", "hi"],
        capture_output=True, text=True, cwd=work, env=cli_env(home), timeout=60, input="",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[-1].strip() for line in lines}


def test_exec_without_hooks_imports_none_of_them(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hello"))
    loaded = imported_modules(home, work)
    assert "pycodex.agent.turn" in loaded  # the probe did see the engine load
    assert [name for name in loaded if name.startswith(HOOK_MODULES)] == []


def test_exec_with_a_hook_loads_the_runtime(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    with (home / "config.toml").open("a") as config:
        config.write("\n" + hook_group("Stop", "true"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hello"))
    loaded = imported_modules(home, work)
    assert "pycodex.hooks.discovery" in loaded
    assert "tomlkit" not in loaded  # only `pycodex hooks` writes config.toml
