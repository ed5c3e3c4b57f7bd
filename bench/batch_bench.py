"""`pycodex batch` throughput, and what the harness costs per task.

Method: a fake model that answers every request after 200 ms (`latency_s`), and N one-request
tasks (no working copy to copy: the harness's fixed cost). Figures, all from this run:

- baseline: a bare loop of `pycodex exec --json` subprocesses, one after the other (what a
  harness that spawns exec itself does);
- the batch with 1, 2, 4 and 8 local workers (`pycodex.batch.run` with `LocalExecutor`), and
  1 worker with `direct=True` (no request proxy);
- Ray: a local cluster (`ray.init(num_cpus=2)`, started before the clock) with one task per CPU,
  and with `cpus_per_task=0.25` (8 at once); skipped without the ray extra.

Per-task overhead = (1-worker batch time - bare loop time) / N: the working directory, the
diff, the results file (fsync), the proxy hop and the batch's own event loop. The bare loop and
the 1-worker batch alternate over `ROUNDS` rounds; each figure is the median. On a busy shared
machine wall time swings by more than the overhead, so the CPU the batch process itself uses
per task (and the CPU of the exec children, batch against loop) is reported too. Tasks per second
for more workers is bounded by the 2 cores here: each exec is ~0.15 s of CPU.
"""

from __future__ import annotations

import logging
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Table, use_test_support

LATENCY_S = 0.2
TASKS = int(os.environ.get("PYCODEX_BENCH_BATCH_TASKS", "24"))
ROUNDS = 3


def run(table: Table) -> None:
    use_test_support()
    from support import sse_builders as sse
    from support.cli import API_KEY, cli_env, write_config
    from support.fake_server import FakeModelServer

    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as server:
        home = Path(tmp) / "home"
        write_config(home, server)
        server.expect_sse("/v1/responses", sse.assistant_reply("ok"), repeat=True,
                          latency_s=LATENCY_S)  # fmt: skip
        env = {**cli_env(home), "PYCODEX_BENCH": "1"}
        exec_env = {"CODEX_HOME": str(home), "FAKE_API_KEY": API_KEY}
        bench = _Bench(Path(tmp), env, exec_env)
        bench.report(table)


class _Bench:
    def __init__(self, root: Path, env: dict[str, str], exec_env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.exec_env = exec_env
        self.runs = 0

    def report(self, table: Table) -> None:
        from pycodex.batch import BatchSettings, LocalExecutor

        loop_times: list[float] = []
        one_times: list[float] = []
        loop_cpu, one_cpu = _Cpu(), _Cpu()
        for _ in range(ROUNDS):  # alternating, so drift on the machine hits both alike
            with loop_cpu:
                loop_times.append(self._bare_loop())
            with one_cpu:
                one_times.append(self._batch(LocalExecutor(1)))
        loop, one = statistics.median(loop_times), statistics.median(one_times)
        table.add(f"batch: bare exec loop, {TASKS} tasks", f"{TASKS / loop:.2f} tasks/s",
                  f"baseline; {loop / TASKS * 1000:.0f} ms/task, model latency "
                  f"{LATENCY_S * 1000:.0f} ms")  # fmt: skip
        table.add("batch: 1 local worker", f"{TASKS / one:.2f} tasks/s",
                  f"{one / loop:.2f}x the loop's time; harness overhead "
                  f"{(one - loop) / TASKS * 1000:+.0f} ms/task")  # fmt: skip
        runs = ROUNDS * TASKS
        table.add("batch: harness CPU per task (batch process)",
                  f"{(one_cpu.own - loop_cpu.own) / runs * 1000:.1f} ms",
                  "the batch's own CPU (this process, less what the fake server costs the "
                  "loop)")  # fmt: skip
        table.add("batch: exec CPU per task, batch vs loop",
                  f"{one_cpu.children / runs * 1000:.0f} vs "
                  f"{loop_cpu.children / runs * 1000:.0f} ms",
                  "child processes: exec, and git when a working copy needs it")  # fmt: skip
        direct = self._batch(LocalExecutor(1), BatchSettings(direct=True))
        table.add("batch: 1 local worker, --direct", f"{TASKS / direct:.2f} tasks/s",
                  f"{direct / loop:.2f}x the loop's time (no request proxy)")  # fmt: skip
        for workers in (2, 4, 8):
            elapsed = self._batch(LocalExecutor(workers))
            table.add(f"batch: {workers} local workers", f"{TASKS / elapsed:.2f} tasks/s",
                      f"{loop / elapsed:.2f}x the bare loop's rate")  # fmt: skip
        self._ray(table, loop)

    def _bare_loop(self) -> float:
        command = _pycodex()
        workdir = self.root / "bare"
        workdir.mkdir(exist_ok=True)
        started = time.perf_counter()
        for _ in range(TASKS):
            subprocess.run(
                [*command, "exec", "--json", "--skip-git-repo-check", "-C", str(workdir), "-"],
                input=b"do the task", env=self.env, capture_output=True, check=True,
            )  # fmt: skip
        return time.perf_counter() - started

    def _batch(self, executor: Any, settings: Any = None) -> float:
        from pycodex.batch import ExecOptions, run

        self.runs += 1
        tasks = [{"id": n, "prompt": "do the task"} for n in range(TASKS)]
        results = self.root / f"results-{self.runs}.jsonl"
        options = ExecOptions(env=self.exec_env)
        started = time.perf_counter()
        with run(tasks, executor, exec_options=options, settings=settings,
                 results=results) as batch:  # fmt: skip
            statuses = [result.status for result in batch]
        elapsed = time.perf_counter() - started
        if statuses.count("completed") != TASKS:
            raise RuntimeError(f"batch bench: not every task completed: {statuses}")
        return elapsed

    def _ray(self, table: Table, loop: float) -> None:
        try:
            import ray
        except ImportError:
            table.add("batch: Ray", "skipped", "the ray extra is not installed")
            return
        from pycodex.batch import RayExecutor

        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)  # fmt: skip
        table.add("batch: Ray local cluster start", f"{time.perf_counter() - started:.1f} s",
                  "ray.init(num_cpus=2), once per batch")  # fmt: skip
        try:
            figures: list[tuple[str, Callable[[], Any]]] = [
                ("batch: Ray, 2 CPUs, 1 task per CPU", lambda: RayExecutor()),
                ("batch: Ray, 2 CPUs, 8 at once", lambda: RayExecutor(cpus_per_task=0.25)),
            ]
            for name, make in figures:
                elapsed = self._batch(make())
                table.add(name, f"{TASKS / elapsed:.2f} tasks/s",
                          f"{loop / elapsed:.2f}x the bare loop's rate")  # fmt: skip
        finally:
            ray.shutdown()


class _Cpu:
    """CPU seconds used inside `with` blocks: this process's own, and its waited-for children's
    (less sensitive than wall time to the other work on a shared machine)."""

    def __init__(self) -> None:
        self.own = 0.0
        self.children = 0.0
        self._start = (0.0, 0.0)

    def __enter__(self) -> None:
        self._start = _cpu_now()

    def __exit__(self, *exc: object) -> None:
        own, children = _cpu_now()
        self.own += own - self._start[0]
        self.children += children - self._start[1]


def _cpu_now() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _pycodex() -> list[str]:
    from pycodex.batch.options import pycodex_command

    return pycodex_command()
