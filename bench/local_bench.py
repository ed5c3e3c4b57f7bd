"""`bench/run local`: pycodex with its own local model (opt-in, minutes to hours; never in CI).

Needs the model and llama-server (`pycodex local install`; this installs them when missing) and
runs against the managed server, which it restarts. Figures:

1. Time to the first token of the first request of a session (pycodex's real prompt for the
   count task, streamed straight to the server), three ways in one run: cold (a fresh server,
   no saved prompt cache: the base instructions, tools and examples are processed from scratch),
   with the saved prefix (the server stopped, which saves slot 0, and started again, which
   restores it; a different task, so only the shared start is reused), and warm (the same server
   again, a third task) as the baseline.
2. The three tasks of tests/realmodel (support/local_tasks.py), each `PYCODEX_BENCH_LOCAL_RUNS`
   times (default 5) through `pycodex exec --oss --json --full-auto`: success rate and median
   wall time per task.
3. With PYCODEX_BENCH_PEERS=1 (and npm): the same tasks driven by upstream Codex (`npm install
   @openai/codex` into a temp dir, as bench/peers.py does) through `pycodex serve` in front of
   the same server (`wire_api = "responses"` to serve, Chat Completions from serve to llama.cpp),
   each `PYCODEX_BENCH_UPSTREAM_RUNS` times (default: the same as above).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Table, use_test_support

PYCODEX = [sys.executable, "-m", "pycodex"]
TASK_TIMEOUT_S = 900
UPSTREAM_PACKAGE = "@openai/codex"


def run(table: Table) -> None:
    use_test_support()
    from pycodex.cli.local_progress import TerminalProgress
    from pycodex.local import server
    from pycodex.local.install import install
    from pycodex.local.manifest import load_manifest
    from pycodex.local.paths import LocalPaths

    env = dict(os.environ)
    paths, manifest = LocalPaths.from_env(env), load_manifest(env)
    install(paths, manifest, TerminalProgress(sys.stderr, on_terminal=sys.stderr.isatty()), env)
    settings = server.ServerSettings.from_env(env)
    with tempfile.TemporaryDirectory(prefix="pycodex-local-bench-") as tmp:
        root = Path(tmp)
        _first_token(table, root, paths, manifest, settings, env)
        state = server.ensure_server(paths, manifest, settings, env)
        runs = int(env.get("PYCODEX_BENCH_LOCAL_RUNS", "5"))
        _tasks(table, root / "pycodex", "pycodex", runs, _pycodex_exec)
        if env.get("PYCODEX_BENCH_PEERS") == "1":
            upstream_runs = int(env.get("PYCODEX_BENCH_UPSTREAM_RUNS", str(runs)))
            _upstream(table, root / "upstream", state.base_url, manifest.model.id, upstream_runs)
        else:
            table.add(
                "local: upstream codex via pycodex serve", "skipped", "set PYCODEX_BENCH_PEERS=1"
            )


# -- 1. time to first token -------------------------------------------------------------------


def _first_token(
    table: Table, root: Path, paths: Any, manifest: Any, settings: Any, env: Any
) -> None:
    from pycodex.local import server

    bodies = {
        name: _chat_body(root, name, manifest.model.id) for name in ("count", "hello", "calc")
    }
    server.stop_server(paths)
    (paths.slots / "prefix.bin").unlink(missing_ok=True)
    state = server.ensure_server(paths, manifest, settings, env)
    cold = _ttft(state.port, bodies["count"])
    server.stop_server(paths)  # saves slot 0: it served a request
    saved_file = paths.slots / "prefix.bin"
    state = server.ensure_server(paths, manifest, settings, env)
    saved = _ttft(state.port, bodies["hello"])
    warm = _ttft(state.port, bodies["calc"])
    note = (
        f"{cold[1]} prompt tokens; saved prompt cache {saved_file.stat().st_size / 2**20:.0f} MiB"
    )
    table.add("local: first token, cold server", f"{cold[0]:.1f} s", note)
    table.add(
        "local: first token, saved prefix restored",
        f"{saved[0]:.1f} s",
        f"{saved[2]} of {saved[1]} prompt tokens from the cache; {cold[0] / saved[0]:.1f}x faster",
    )
    table.add("local: first token, warm server (baseline)", f"{warm[0]:.1f} s", f"{warm[2]} cached")


def _chat_body(root: Path, task: str, model: str) -> dict[str, Any]:
    """pycodex's first request for `task`, as the Chat Completions body the server receives."""
    from pycodex.providers.chat import responses_to_chat_request
    from support.local_tasks import PROMPTS, repository

    repo = repository(root / "ttft", task)
    args = [
        "debug",
        "prompt",
        "-c",
        "model_provider=oss",
        "-m",
        model,
        "-c",
        "sandbox_mode=workspace-write",
        "-c",
        "approval_policy=never",
        PROMPTS[task],
    ]
    out = subprocess.run([*PYCODEX, *args], cwd=repo, capture_output=True, text=True, check=True)
    chat = responses_to_chat_request(json.loads(out.stdout), kind="llamacpp")
    body = dict(chat.body)
    body.update(stream=True, max_tokens=8, stream_options={"include_usage": True})
    return body


def _ttft(port: int, body: dict[str, Any]) -> tuple[float, int, int]:
    """Seconds to the first streamed delta; prompt tokens; of them, tokens taken from the cache."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    started = time.perf_counter()
    connection.request(
        "POST", "/v1/chat/completions", json.dumps(body), {"content-type": "application/json"}
    )
    response = connection.getresponse()
    first: float | None = None
    prompt = cached = 0
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if first is None and chunk.get("choices"):
            first = time.perf_counter() - started
        usage = chunk.get("usage") or {}
        if usage:
            prompt = usage.get("prompt_tokens", 0)
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    connection.close()
    return (first or time.perf_counter() - started), prompt, cached


# -- 2 and 3. the tasks -----------------------------------------------------------------------


def _pycodex_exec(repo: Path, prompt: str) -> tuple[list[str], dict[str, str]]:
    from support.local_tasks import task_env

    return [*PYCODEX, "exec", "--oss", "--json", "--full-auto", prompt], task_env()


def _tasks(table: Table, root: Path, label: str, runs: int, command: Any) -> None:
    from support.local_tasks import PROMPTS, TASKS, Run, check, machinery_problem, repository

    for name in TASKS:
        walls: list[float] = []
        problems: list[str] = []
        for index in range(runs):
            repo = repository(root / f"{name}-{index}", name)
            argv, env = command(repo, PROMPTS[name])
            began = time.monotonic()
            try:
                done = subprocess.run(
                    argv,
                    cwd=repo,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=TASK_TIMEOUT_S,
                )
                result = Run(done.returncode, done.stdout, done.stderr)
                problem = machinery_problem(result) or check(name, repo, result)
            except subprocess.TimeoutExpired:
                problem = f"timed out after {TASK_TIMEOUT_S} s"
            walls.append(time.monotonic() - began)
            if problem is not None:
                problems.append(problem)
            print(
                f"    {label} {name} #{index + 1}: {problem or 'done'} ({walls[-1]:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        passed = runs - len(problems)
        spread = f"{min(walls):.0f}–{max(walls):.0f} s"
        note = f"wall time median {statistics.median(walls):.0f} s (range {spread})"
        if problems:
            note += "; failures: " + "; ".join(sorted(set(problems)))[:300]
        table.add(f"local: {label}, task {name}", f"{passed}/{runs}", note)


def _upstream(table: Table, root: Path, base_url: str, model: str, runs: int) -> None:
    npm = shutil.which("npm")
    if npm is None:
        table.add("local: upstream codex via pycodex serve", "skipped", "npm not found")
        return
    prefix = root / "npm"
    subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", UPSTREAM_PACKAGE],
        check=True,
        capture_output=True,
        timeout=900,
    )
    codex = prefix / "node_modules" / ".bin" / "codex"
    port = _free_port()
    serve = subprocess.Popen(
        [
            *PYCODEX,
            "serve",
            "--downstream-url",
            base_url,
            "--provider-kind",
            "llamacpp",
            "--port",
            str(port),
            "--store",
            "memory",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        _wait_listening(port)
        home = root / "home"
        home.mkdir(parents=True)
        (home / "config.toml").write_text(
            f'model = "{model}"\nmodel_provider = "local"\ncheck_for_update_on_startup = false\n'
            f'[model_providers.local]\nname = "pycodex serve"\nbase_url = "http://127.0.0.1:{port}/v1"\n'
            'wire_api = "responses"\nstream_idle_timeout_ms = 1800000\n'
            "[analytics]\nenabled = false\n[features]\nplugins = false\nremote_plugin = false\n"
        )

        def command(repo: Path, prompt: str) -> tuple[list[str], dict[str, str]]:
            from support.local_tasks import task_env

            env = task_env()
            env.update(CODEX_HOME=str(home), NO_PROXY="127.0.0.1,localhost")
            return [str(codex), "exec", "--json", "--sandbox", "workspace-write", prompt], env

        _tasks(table, root / "runs", "upstream codex via pycodex serve", runs, command)
    finally:
        serve.terminate()
        serve.wait(30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_listening(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"pycodex serve did not listen on {port}")
