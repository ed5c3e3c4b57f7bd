"""Start-up: whole-process wall time, median of N runs after one warm-up.

- `pycodex --version` against the bare interpreter (`python -c pass`): target ≤ 1.15× (issue 24).
  Both pycodex figures run the installed `pycodex` script, as users do (`python -m pycodex`
  without one).
- one-request `pycodex exec --json` against a zero-latency fake server: target ≤ 250 ms.
- All four (the two baselines, `--version`, exec) run interleaved, run by run; `--version` and
  `python -c pass` then take turns `VERSION_RUNS` more times on their own, and the `--version`
  ratio comes from those: the two differ by about a millisecond, which 15 runs on a busy
  machine cannot show.
- `python -X importtime -m pycodex exec --help`-style: the slowest imports of an exec run.

Bytecode caches are written first (`compileall`) and `PYTHONDONTWRITEBYTECODE` is dropped from
the children's environment: an installed package has its `.pyc` files, and without them every
run would recompile pycodex from source (~150 ms here), which measures the compiler, not us.
`python -c "import asyncio"` is reported as a second baseline: the event loop's own import is
the floor of any asyncio program on this machine.

Before/after: with `PYCODEX_BENCH_BASELINE_SRC=/path/to/other/src` (e.g. an older commit's `src`
from `git archive`), the same exec also runs with that tree first on `PYTHONPATH`, interleaved
with the rest, and the difference is reported (how issue 23's h11 switch was held to ≤ 15 ms).
"""

from __future__ import annotations

import compileall
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Table, interleaved_medians, use_test_support

RUNS = 15
VERSION_RUNS = 60


def _run(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    subprocess.run(
        args,
        check=True,
        capture_output=True,
        env=_plain_env() if env is None else env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def _plain_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _exec_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in _plain_env().items() if not k.startswith(("OPENAI_", "CODEX_"))}
    env.update(CODEX_HOME=str(home), FAKE_API_KEY="sk-bench")
    return env


def _pycodex_command(python: str) -> list[str]:
    """The installed `pycodex` script next to this interpreter (what users run), else `-m`."""
    script = Path(python).parent / "pycodex"
    return [str(script)] if script.is_file() else [python, "-m", "pycodex"]


def _write_bytecode(package: Path | None = None) -> None:
    import pycodex

    compileall.compile_dir(package or Path(pycodex.__file__).parent, quiet=1)


def run(table: Table) -> None:
    python = sys.executable
    _write_bytecode()
    use_test_support()
    from support import sse_builders as sse
    from support.cli import write_config
    from support.fake_server import FakeModelServer

    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as server:
        home = Path(tmp)
        write_config(home, server)
        command = _pycodex_command(python)
        args = [*command, "exec", "--json", "--skip-git-repo-check", "hi"]
        env = _exec_env(home)

        def one_exec(run_env: dict[str, str]) -> None:
            server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
            _run(args, run_env, cwd=home)

        work = {
            "bare": lambda: _run([python, "-c", "pass"]),
            "asyncio": lambda: _run([python, "-c", "import asyncio"]),
            "version": lambda: _run([*command, "--version"]),
            "exec": lambda: one_exec(env),
        }
        other = os.environ.get("PYCODEX_BENCH_BASELINE_SRC")
        if other:
            _write_bytecode(Path(other) / "pycodex")
            other_env = {**env, "PYTHONPATH": other}
            work["exec (baseline tree)"] = lambda: one_exec(other_env)
        # Interleaved, so that the machine's drift during the run hits every figure alike.
        times = interleaved_medians(work, RUNS)
        version_work = {"bare": work["bare"], "version": work["version"]}
        if other:
            old_env = {**_plain_env(), "PYTHONPATH": other}
            version_work["old"] = lambda: _run([*command, "--version"], old_env)
        versions = interleaved_medians(version_work, VERSION_RUNS)
        server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
        slowest = _import_offenders(
            [python, "-X", "importtime", "-m", "pycodex", *args[len(command) :]], env, home
        )
        server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
        rss_mb = _peak_rss_mb(python, args, env, home)
    bare, event_loop, exec_time = (times[key] for key in ("bare", "asyncio", "exec"))
    table.add("startup: python -c pass", f"{bare * 1000:.1f} ms", "baseline")
    table.add(
        "startup: python -c 'import asyncio'",
        f"{event_loop * 1000:.1f} ms",
        f"{event_loop / bare:.1f}x baseline (the floor of any asyncio program)",
    )
    version, version_bare = versions["version"], versions["bare"]
    old_version = (
        f"; baseline tree {versions['old'] / version_bare:.2f}x" if "old" in versions else ""
    )
    table.add(
        "startup: pycodex --version",
        f"{version * 1000:.1f} ms",
        f"{version / version_bare:.2f}x `python -c pass` ({version_bare * 1000:.1f} ms, "
        f"{VERSION_RUNS} runs each, target <= 1.15x){old_version}",
    )
    table.add(
        "startup: one-request exec --json",
        f"{exec_time * 1000:.1f} ms",
        f"{exec_time / bare:.1f}x baseline, {exec_time / event_loop:.2f}x the asyncio floor, "
        f"{(exec_time - event_loop) * 1000:.0f} ms above it (target <= 250 ms)",
    )
    if "exec (baseline tree)" in times:
        before = times["exec (baseline tree)"]
        table.add(
            "startup: one-request exec --json, baseline tree",
            f"{before * 1000:.1f} ms",
            f"this tree {(exec_time - before) * 1000:+.1f} ms ({other})",
        )
    table.add("memory: peak RSS of a one-request exec", f"{rss_mb:.0f} MB", "whole process")
    table.add("startup: slowest imports (exec)", ", ".join(slowest), "cumulative µs")


def _peak_rss_mb(python: str, args: list[str], env: dict[str, str], cwd: Path) -> float:
    """Max RSS of the exec child, read by a helper process that runs only it (RUSAGE_CHILDREN)."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True, capture_output=True, stdin=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run([python, "-c", probe, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return int(done.stdout.strip()) / 1024


def _import_offenders(args: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd)
    rows = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) <= 1:
            rows.append((int(match.group(1)), match.group(3)))
    rows.sort(reverse=True)
    return [f"{name} {micros}" for micros, name in rows[:5]]
