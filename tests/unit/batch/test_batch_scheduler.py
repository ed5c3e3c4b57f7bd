"""The batch loop with an executor that answers at once (the loop's own rules, no processes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from pycodex.batch.executors import ExecutorSetup
from pycodex.batch.ledger import Ledger, read_results
from pycodex.batch.options import BatchSettings, ExecOptions
from pycodex.batch.request_gate import GateStats
from pycodex.batch.results import BatchResult
from pycodex.batch.scheduler import BatchControl, BatchProgress, run_batch
from pycodex.batch.task_runner import TaskJob
from pycodex.batch.tasks import BatchTask


class InstantExecutor:
    """Finishes every attempt at once: `failing` ids fail until their attempt `succeeds_at`."""

    def __init__(
        self,
        slots: int,
        failing: dict[str, int] | None = None,
        on_run: Callable[[TaskJob], None] | None = None,
    ) -> None:
        self.slots = slots
        self.failing = failing or {}
        self.on_run = on_run
        self.started: list[TaskJob] = []
        self.closed = False

    async def start(self, setup: ExecutorSetup) -> int:
        return self.slots

    async def run(self, job: TaskJob, cancel: asyncio.Event) -> BatchResult:
        self.started.append(job)
        if self.on_run is not None:
            self.on_run(job)
        ok = job.attempt >= self.failing.get(job.task.key, 1)
        status = "completed" if ok else "failed"
        return BatchResult(id=job.task.id, status=status, attempts=job.attempt)

    async def close(self) -> None:
        self.closed = True

    def gate_stats(self) -> GateStats | None:
        return None


TASKS = [BatchTask(id=f"t{n}", prompt="x") for n in range(3)]


async def test_results_finished_together_are_all_written_when_the_consumer_stops_early(
    tmp_path: Path,
) -> None:
    executor = InstantExecutor(slots=3)
    ledger = Ledger.open(tmp_path / "results.jsonl")
    batch = run_batch(TASKS, executor, options=ExecOptions(), settings=BatchSettings(),
                      ledger=ledger)  # fmt: skip
    first = await anext(batch)
    await batch.aclose()
    ledger.close()
    assert first.status == "completed"
    assert sorted(read_results(tmp_path / "results.jsonl")) == ["t0", "t1", "t2"]
    assert executor.closed


async def test_retries_go_to_the_back_and_only_the_last_attempt_is_written(
    tmp_path: Path,
) -> None:
    executor = InstantExecutor(slots=1, failing={"t0": 2, "t1": 9})
    ledger = Ledger.open(tmp_path / "results.jsonl")
    progress = BatchProgress()
    found = [
        r async for r in run_batch(TASKS, executor, options=ExecOptions(),
                                   settings=BatchSettings(retries=1), ledger=ledger,
                                   progress=progress)
    ]  # fmt: skip
    ledger.close()
    order = [(job.task.key, job.attempt) for job in executor.started]
    assert order == [("t0", 1), ("t1", 1), ("t2", 1), ("t0", 2), ("t1", 2)]
    assert [(r.key, r.status, r.attempts) for r in found] == [
        ("t2", "completed", 1), ("t0", "completed", 2), ("t1", "failed", 2)
    ]  # fmt: skip
    assert (tmp_path / "results.jsonl").read_text().count("\n") == 3
    assert (progress.completed, progress.failed, progress.retried) == (2, 1, 2)


async def test_a_stop_runs_no_new_task_and_no_retry() -> None:
    control = BatchControl()
    executor = InstantExecutor(slots=1, failing={"t0": 2}, on_run=lambda _: control.request_stop())
    batch = run_batch(TASKS, executor, options=ExecOptions(), settings=BatchSettings(retries=3),
                      control=control)  # fmt: skip
    found = [r async for r in batch]
    assert [(r.key, r.status) for r in found] == [("t0", "failed")]
    assert [job.task.key for job in executor.started] == ["t0"]
