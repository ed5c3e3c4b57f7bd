"""app-server: the official SDK's `run()` of a one-request turn, against `pycodex exec`.

Same fake model server, same machine, same run; all pieces take turns (interleaved), medians of
RUNS:

- `sdk session`: `Codex(CodexConfig(codex_bin=pycodex))` (spawn + initialize), `thread_start()`,
  `thread.run(prompt)`, close: what a script that opens the SDK per task pays.
- `sdk run, warm`: `thread_start()` + `run(prompt)` on an already open connection.
- `exec --json`: one `pycodex exec --json` process with the same prompt, the baseline.
- `cpu`: the CPU time (user + system) the server process of one SDK session used, from the
  children's rusage (mean of CPU_RUNS): wall times on a loaded machine stretch with the load, CPU
  time much less.

With PYCODEX_BENCH_PEERS=1 the same two SDK figures are measured against upstream's app-server
(`npm install @openai/codex@0.169.0` into a temp dir, its native binary as `codex_bin`, the
config of bench/peers.py: network features off, a dead proxy for anything not 127.0.0.1), in the
same interleaving.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.common import Table, interleaved_medians, use_test_support

RUNS = 10
CPU_RUNS = 5
UPSTREAM = "@openai/codex@0.169.0"
ENV_FLAG = "PYCODEX_BENCH_PEERS"
Pieces = dict[str, Callable[[], object]]


def run(table: Table) -> None:
    use_test_support()
    with (
        tempfile.TemporaryDirectory(prefix="pycodex-bench-app-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        pieces = stack.enter_context(_pycodex_pieces(root))
        upstream_note = f"set {ENV_FLAG}=1"
        if os.environ.get(ENV_FLAG) == "1":
            try:
                binary = _install_upstream(root)
                pieces |= stack.enter_context(_upstream_pieces(root, binary))
            except (OSError, subprocess.SubprocessError, RuntimeError) as err:
                upstream_note = f"failed: {str(err).splitlines()[0][:100]}"
        medians = interleaved_medians(pieces, RUNS)
        cpu = {name: _child_cpu(pieces[name]) for name in pieces if name.endswith("sdk session")}
    for name, seconds in medians.items():
        table.add(f"app-server: {name}", f"{seconds * 1000:.0f} ms", "median")
    exec_s = medians["exec --json"]
    for name in ("sdk session", "sdk run, warm"):
        table.add(f"app-server: {name} / exec", f"{medians[name] / exec_s:.2f}", "")
        if f"upstream {name}" in medians:
            ratio = medians[name] / medians[f"upstream {name}"]
            table.add(f"app-server: {name} pycodex/upstream", f"{ratio:.2f}", "below 1: faster")
    for name, seconds in cpu.items():
        table.add(f"app-server: {name} cpu", f"{seconds * 1000:.0f} ms", f"mean of {CPU_RUNS}")
    if "upstream sdk session" in cpu:
        ratio = cpu["sdk session"] / cpu["upstream sdk session"]
        table.add("app-server: session cpu pycodex/upstream", f"{ratio:.2f}", "below 1: less")
    if "upstream sdk session" not in medians:
        table.add("app-server: upstream", "skipped", upstream_note)


def _child_cpu(piece: Callable[[], object]) -> float:
    """Mean CPU seconds of the child processes one call of `piece` started and reaped."""
    import resource

    def used() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    before = used()
    for _ in range(CPU_RUNS):
        piece()
    return (used() - before) / CPU_RUNS


def _reply(server: Any) -> None:
    from support import sse_builders as sse

    server.expect_sse("/v1/responses", sse.assistant_reply("ok"))


@contextlib.contextmanager
def _sdk_pieces(config: Any, server: Any, prefix: str = "") -> Iterator[Pieces]:
    from openai_codex import Codex

    def session() -> None:
        _reply(server)
        with Codex(config) as codex:
            codex.thread_start().run("say ok")

    with Codex(config) as warm:

        def warm_run() -> None:
            _reply(server)
            warm.thread_start().run("say ok")

        yield {f"{prefix}sdk session": session, f"{prefix}sdk run, warm": warm_run}


@contextlib.contextmanager
def _pycodex_pieces(root: Path) -> Iterator[Pieces]:
    from support.app_server import sdk_config
    from support.cli import cli_env, write_config
    from support.fake_server import FakeModelServer

    home, work = root / "pycodex-home", root / "pycodex-work"
    work.mkdir()
    command = [
        str(Path(sys.executable).with_name("pycodex")),
        "exec", "--json", "--skip-git-repo-check", "say ok",
    ]  # fmt: skip
    with FakeModelServer() as server:
        write_config(home, server)
        env = cli_env(home)

        def exec_run() -> None:
            _reply(server)
            subprocess.run(command, env=env, cwd=work, capture_output=True, check=True)

        with _sdk_pieces(sdk_config(home, work), server) as pieces:
            yield {**pieces, "exec --json": exec_run}


def _install_upstream(root: Path) -> Path:
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
    return found[0]


@contextlib.contextmanager
def _upstream_pieces(root: Path, binary: Path) -> Iterator[Pieces]:
    from openai_codex import CodexConfig

    from bench.peers import _peer_env, _provider_toml
    from support.fake_server import FakeModelServer

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
        config = CodexConfig(codex_bin=str(binary), cwd=str(work), env=_peer_env(home))
        with _sdk_pieces(config, server, "upstream ") as pieces:
            yield pieces
