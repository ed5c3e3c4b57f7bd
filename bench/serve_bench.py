"""`pycodex serve`: streamed responses per second and added latency at 1, 16 and 64 clients.

Method. Every party is its own process, so none measures the others' cost as its own:

- the model server: `bench.serve_load downstream`, a canned Chat Completions stream (20 content
  chunks, a finish chunk, a usage chunk, `[DONE]`, one write each) from a bare asyncio server;
- the servers under test: `pycodex serve` with 1 worker and with N workers (N = the machine's
  cores), `--store sqlite`, and with `PYCODEX_BENCH_PEERS=1` LiteLLM's proxy (installed from PyPI
  into a venv of its own, see `peers.litellm_proxy`) with 1 and N workers;
- the load: `bench.serve_load generate` processes (one per core, clients split between them),
  each simulated client with its own keep-alive connection, sending streamed requests back to
  back (or, in the paced scenario, with a pause between them) and reading each answer to its
  last byte.

The baseline ("direct") is the same load sent straight to the model server as Chat Completions
requests. For each scenario (`SCENARIOS`) the targets take turns, `ROUNDS` times, each round
starting with the next target (a machine shared with other work drifts; turns spread the drift
over every target); each figure is the median of its rounds. Latency is per request, from the
first byte sent to the last byte read; "added" is the target's percentile minus the direct one
in the same scenario. CPU per request is the user + system time of the server's processes (all
workers) over the requests they answered: the figure least moved by other work on the machine.
LiteLLM, ~30x slower, is sent a quarter of the requests per round.

Everything shares the machine's cores (on the 2-core CI machine: the model server, the server
under test and the load generators), so throughput is a floor for any of them alone.
`PYCODEX_BENCH_SERVE_BASELINE=/path/to/src` adds a single-worker serve run from another source
tree (an older commit: `git archive <commit> src | tar -x -C /tmp/before`), taking turns with the
others, for a before/after in one run; `PYCODEX_BENCH_SERVE_SRC` replaces the measured tree;
`PYCODEX_BENCH_SERVE_WORKERS=1,4` picks the worker counts (default 1 and the core count).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, Table, stop


@dataclass(frozen=True)
class Scenario:
    clients: int
    requests: int  # per client and round
    think_s: float = 0.0  # mean pause between a client's requests (0: back to back)

    @property
    def label(self) -> str:
        paced = f", paced ({self.think_s:g} s between requests)" if self.think_s else ""
        return f"{self.clients} clients{paced}"


SCENARIOS = (
    Scenario(1, 300),
    Scenario(16, 40),
    Scenario(64, 12),
    # 64 agents that spend a second on tools between model calls, ~60 requests/s offered: what
    # serve adds to each answer at a load it is not saturated by.
    Scenario(64, 8, think_s=1.0),
)
ROUNDS = int(os.environ.get("PYCODEX_BENCH_SERVE_ROUNDS", "5"))
CORES = os.cpu_count() or 2
CHAT_BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
RESPONSES_BODY = {"model": "m", "input": "hi", "stream": True, "store": False}
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    name: str
    url: str
    body_file: Path
    pid: int | None = None  # the server's process, whose tree's CPU time is counted
    token: str = "sk-bench"
    scale: float = 1.0  # the share of each scenario's requests it is sent
    runs: dict[Scenario, list[Run]] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float | None
    errors: tuple[str, ...]


def run(table: Table) -> None:
    with tempfile.TemporaryDirectory(prefix="pycodex-serve-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        model_server = [sys.executable, "-m", "bench.serve_load", "downstream"]
        downstream = stack.enter_context(_process(model_server, root))
        assert downstream.stdout is not None
        port = int(downstream.stdout.readline())
        base = f"http://127.0.0.1:{port}/v1"
        chat_file, responses_file = root / "chat.json", root / "responses.json"
        chat_file.write_text(json.dumps(CHAT_BODY))
        responses_file.write_text(json.dumps(RESPONSES_BODY))
        targets = [Target("direct", f"{base}/chat/completions", chat_file)]
        for workers in _worker_counts():
            url, pid = _start_serve(stack, root, base, workers)
            targets.append(Target(_serve_name(workers), f"{url}/responses", responses_file, pid))
        baseline = os.environ.get("PYCODEX_BENCH_SERVE_BASELINE")
        if baseline:
            url, pid = _start_serve(stack, root, base, 1, src=baseline)
            targets.append(Target("serve x1 (baseline)", f"{url}/responses", responses_file, pid))
        targets += _litellm_targets(stack, root, base, responses_file, table)
        for scenario in SCENARIOS:
            for round_index in range(ROUNDS):
                # Each round starts with another target, so none always follows the same one.
                shift = round_index % len(targets)
                for target in targets[shift:] + targets[:shift]:
                    target.runs.setdefault(scenario, []).append(_measure(target, scenario))
        _report(table, targets)


def _worker_counts() -> list[int]:
    chosen = os.environ.get("PYCODEX_BENCH_SERVE_WORKERS")
    if chosen:
        return [int(n) for n in chosen.split(",")]
    return [1, CORES] if CORES > 1 else [1]


def _serve_name(workers: int) -> str:
    return f"serve x{workers}"


@contextmanager
def _process(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[str]]:
    """A child process, stopped at the end; stderr goes to `log` (a pipe could fill and stall)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with open(log or os.devnull, "w") as errors:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        try:
            yield proc
        finally:
            stop(proc)


def wait_for_line(log: Path, proc: subprocess.Popen[str], marker: str, timeout_s: float) -> str:
    """The first line of `log` holding `marker`, once the process wrote it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if marker in line:
                return line
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = " / ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
    raise RuntimeError(f"{proc.args!r} did not start: {tail[:300]}")


def _start_serve(
    stack: ExitStack, root: Path, downstream: str, workers: int, src: str | None = None
) -> tuple[str, int]:
    home = Path(tempfile.mkdtemp(prefix=f"serve-home-{workers}-", dir=root))
    src = src or os.environ.get("PYCODEX_BENCH_SERVE_SRC", str(ROOT / "src"))
    argv = [
        sys.executable, "-m", "pycodex.cli.serve_command", "--downstream-url", downstream,
        "--port", "0", "--store", "sqlite", "--log-level", "warning",
    ]  # fmt: skip
    if workers > 1:
        argv += ["--workers", str(workers)]
    log = home / "serve.log"
    env = {"CODEX_HOME": str(home), "PYTHONPATH": src}
    proc = stack.enter_context(_process(argv, root, env, log))
    banner = wait_for_line(log, proc, "listening on ", 60)
    return banner.split("listening on ", 1)[1].split()[0], proc.pid


def _litellm_targets(
    stack: ExitStack, root: Path, downstream: str, body_file: Path, table: Table
) -> list[Target]:
    from bench import peers

    if os.environ.get(peers.ENV_FLAG) != "1":
        table.add(
            "serve: LiteLLM proxy",
            f"skipped: set {peers.ENV_FLAG}=1",
            "installs litellm[proxy] from PyPI into a temporary venv",
        )
        return []
    targets = []
    try:
        for workers in _worker_counts():
            url, pid = stack.enter_context(peers.litellm_proxy(root, downstream, workers))
            name, url = f"LiteLLM x{workers}", f"{url}/responses"
            targets.append(Target(name, url, body_file, pid, peers.LITELLM_KEY, scale=0.25))
    except peers.PeerError as err:
        table.add("serve: LiteLLM proxy", "failed", str(err))
    return targets


def _measure(target: Target, scenario: Scenario) -> Run:
    clients = scenario.clients
    generators = min(clients, CORES)
    shares = [clients // generators + (i < clients % generators) for i in range(generators)]
    argv = [sys.executable, "-m", "bench.serve_load", "generate", target.url, str(target.body_file)]
    requests = str(max(1, round(scenario.requests * target.scale)))
    procs = [
        subprocess.Popen(
            [*argv, str(share), requests, str(scenario.think_s)],
            env={**os.environ, "PYTHONPATH": str(ROOT), "SERVE_LOAD_TOKEN": target.token},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in shares
    ]
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"load generator for {target.name} did not start")
    cpu_before = _cpu_seconds(target.pid)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [json.loads(proc.communicate(timeout=600)[0]) for proc in procs]
    cpu_after = _cpu_seconds(target.pid)
    latencies = sorted(x for r in results for x in r["latencies"])
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None and latencies:
        cpu_ms = (cpu_after - cpu_before) * 1000 / len(latencies)
    return Run(
        rate=len(latencies) / wall,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        cpu_ms=cpu_ms,
        errors=tuple(e for r in results for e in r["errors"]),
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of a process and its children (the workers), from /proc."""
    if pid is None or not Path("/proc").is_dir():
        return None
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def _median(runs: list[Run], attribute: str) -> float:
    values = [getattr(r, attribute) for r in runs if getattr(r, attribute) is not None]
    return statistics.median(values) if values else float("nan")


def _report(table: Table, targets: list[Target]) -> None:
    direct, others = targets[0], targets[1:]
    for scenario in SCENARIOS:
        base = direct.runs[scenario]
        base_rate = _median(base, "rate")
        base_p50, base_p99 = _median(base, "p50_ms"), _median(base, "p99_ms")
        total = scenario.requests * scenario.clients
        table.add(
            f"serve: direct to the model server, {scenario.label}",
            f"{base_rate:.0f}/s",
            f"p50 {base_p50:.1f} ms, p99 {base_p99:.1f} ms; {total} requests, {ROUNDS} rounds",
        )
        for target in others:
            runs = target.runs[scenario]
            errors = [e for r in runs for e in r.errors]
            rate = _median(runs, "rate")
            p50, p99 = _median(runs, "p50_ms"), _median(runs, "p99_ms")
            cpu = _median(runs, "cpu_ms")
            note = (
                f"added p50 {p50 - base_p50:+.1f} ms, p99 {p99 - base_p99:+.1f} ms "
                f"(p50 {p50:.1f}, p99 {p99:.1f}); {rate / base_rate:.2f}x direct; "
                f"CPU {cpu:.2f} ms/request"
            )
            if errors:
                note += f"; {len(errors)} errors, e.g. {errors[0]}"
            table.add(f"serve: {target.name}, {scenario.label}", f"{rate:.0f}/s", note)


if __name__ == "__main__":
    results = Table()
    run(results)
    print(results.render())
