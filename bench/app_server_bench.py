"""app-server: the official SDK's `run()` of a one-request turn, against `pycodex exec`.

Same fake model server, same machine, same run; pieces interleaved, medians of RUNS:

- `sdk session`: `Codex(CodexConfig(codex_bin=pycodex))` (spawn + initialize), `thread_start()`,
  `thread.run(prompt)`, close: what a script that opens the SDK per task pays.
- `sdk run, warm`: `thread_start()` + `run(prompt)` on an already open connection.
- `exec --json`: one `pycodex exec --json` process with the same prompt, the baseline.

With PYCODEX_BENCH_PEERS=1 the same two SDK figures are measured against upstream's app-server
(`npm install @openai/codex@0.169.0` into a temp dir, its native binary as `codex_bin`), with the
same config as bench/peers.py (network features off, a dead proxy for anything not 127.0.0.1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Table, interleaved_medians, use_test_support

RUNS = 10
UPSTREAM = "@openai/codex@0.169.0"
ENV_FLAG = "PYCODEX_BENCH_PEERS"


def run(table: Table) -> None:
    use_test_support()
    from support.fake_server import FakeModelServer

    with tempfile.TemporaryDirectory(prefix="pycodex-bench-app-") as tmp:
        root = Path(tmp)
        with FakeModelServer() as server:
            server_url = server.base_url
            ours = _measure_pycodex(root, server, server_url)
        for name, seconds in ours.items():
            table.add(f"app-server: {name}", f"{seconds * 1000:.0f} ms", "median")
        exec_s = ours["exec --json"]
        table.add("app-server: sdk session / exec", f"{ours['sdk session'] / exec_s:.2f}", "")
        table.add("app-server: sdk run warm / exec", f"{ours['sdk run, warm'] / exec_s:.2f}", "")
        if os.environ.get(ENV_FLAG) != "1":
            table.add("app-server: upstream", "skipped", f"set {ENV_FLAG}=1")
            return
        try:
            upstream = _measure_upstream(root)
        except (OSError, subprocess.SubprocessError, RuntimeError) as err:
            table.add("app-server: upstream", "failed", str(err).splitlines()[0][:120])
            return
        for name, seconds in upstream.items():
            table.add(f"app-server: upstream {name}", f"{seconds * 1000:.0f} ms", "median")
        for name in ("sdk session", "sdk run, warm"):
            ratio = ours[name] / upstream[name]
            table.add(f"app-server: {name} pycodex/upstream", f"{ratio:.2f}", "below 1: faster")


def _reply(server: Any, count: int) -> None:
    from support import sse_builders as sse

    for _ in range(count):
        server.expect_sse("/v1/responses", sse.assistant_reply("ok"))


def _sdk_pieces(config: Any, server: Any) -> dict[str, Callable[[], object]]:
    from openai_codex import Codex

    warm = Codex(config)

    def session() -> None:
        _reply(server, 1)
        with Codex(config) as codex:
            codex.thread_start().run("say ok")

    def warm_run() -> None:
        _reply(server, 1)
        warm.thread_start().run("say ok")

    return {"sdk session": session, "sdk run, warm": warm_run, "_close": warm.close}


def _measure_pycodex(root: Path, server: Any, _url: str) -> dict[str, float]:
    from support.app_server import sdk_config
    from support.cli import cli_env, write_config

    home, work = root / "pycodex-home", root / "pycodex-work"
    work.mkdir()
    write_config(home, server)
    pieces = _sdk_pieces(sdk_config(home, work), server)
    close = pieces.pop("_close")
    env = cli_env(home)
    command = [
        str(Path(sys.executable).with_name("pycodex")),
        "exec", "--json", "--skip-git-repo-check", "say ok",
    ]  # fmt: skip

    def exec_run() -> None:
        _reply(server, 1)
        subprocess.run(command, env=env, cwd=work, capture_output=True, check=True)

    try:
        return interleaved_medians({**pieces, "exec --json": exec_run}, RUNS)
    finally:
        close()


def _measure_upstream(root: Path) -> dict[str, float]:
    from openai_codex import CodexConfig

    from bench.peers import _peer_env, _provider_toml
    from support.fake_server import FakeModelServer

    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found")
    prefix = root / "npm"
    subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", UPSTREAM],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    found = sorted((prefix / "node_modules" / "@openai").glob("codex-*/vendor/*/bin/codex"))
    if not found:
        raise RuntimeError("the npm package holds no native codex binary")
    home, work = root / "upstream-home", root / "upstream-work"
    home.mkdir()
    work.mkdir()
    with FakeModelServer() as server:
        (home / "config.toml").write_text(
            'model = "test-model"\nmodel_provider = "fake"\ncheck_for_update_on_startup = false\n'
            + _provider_toml(server)
            + "\n[analytics]\nenabled = false\n\n[features]\nplugins = false\n"
            + "remote_plugin = false\n",
            encoding="utf-8",
        )
        config = CodexConfig(codex_bin=str(found[0]), cwd=str(work), env=_peer_env(home))
        pieces = _sdk_pieces(config, server)
        close = pieces.pop("_close")
        try:
            return interleaved_medians(pieces, RUNS)
        finally:
            close()
