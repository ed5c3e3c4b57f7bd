"""The batch loop: keep the executor busy, retry what failed, write every result once.

Which tasks run: those without a result in the ledger; failed or timed-out ones while they have
attempts left (`retries + 1` in all, counted across runs); cancelled ones again. A failed
attempt is retried at the back of the queue and only the last attempt's result is written.

`BatchControl.stop` ends scheduling (running tasks finish, and are not retried);
`BatchControl.cancel` also cancels the running ones, which end as `cancelled` results.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence

from pycodex._records import dataclass, field
from pycodex.batch.executors import Executor, ExecutorSetup
from pycodex.batch.ledger import Ledger
from pycodex.batch.options import BatchSettings, ExecOptions
from pycodex.batch.results import RETRYABLE, BatchResult
from pycodex.batch.task_runner import TaskJob
from pycodex.batch.tasks import BatchTask


class BatchControl:
    """Steering a running batch from outside its loop (signal handlers, another thread)."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.cancel = asyncio.Event()

    def request_stop(self) -> None:
        self.stop.set()

    def request_cancel(self) -> None:
        self.stop.set()
        self.cancel.set()


@dataclass(slots=True)
class BatchProgress:
    """Counters for progress displays; updated by the loop."""

    total: int = 0
    earlier: int = 0
    """Tasks with a final result from an earlier run (not run again)."""
    completed: int = 0
    failed: int = 0
    timed_out: int = 0
    cancelled: int = 0
    running: int = 0
    retried: int = 0
    tokens: int = 0
    started_at: float = field(default_factory=time.monotonic)
    stopping: bool = False

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.timed_out + self.cancelled

    def count(self, result: BatchResult) -> None:
        if result.status == "completed":
            self.completed += 1
        elif result.status == "failed":
            self.failed += 1
        elif result.status == "timed_out":
            self.timed_out += 1
        else:
            self.cancelled += 1
        self.tokens += result.total_tokens


def plan(tasks: Sequence[BatchTask], ledger: Ledger | None, retries: int) -> list[TaskJob]:
    """The attempts to start, in task order."""
    previous = ledger.latest if ledger is not None else {}
    jobs: list[TaskJob] = []
    for task in tasks:
        result = previous.get(task.key)
        if result is None:
            jobs.append(TaskJob(task, 1))
        elif result.status == "cancelled" or (
            result.status in RETRYABLE and result.attempts < retries + 1
        ):
            jobs.append(TaskJob(task, result.attempts + 1))
    return jobs


async def run_batch(
    tasks: Sequence[BatchTask],
    executor: Executor,
    *,
    options: ExecOptions,
    settings: BatchSettings,
    ledger: Ledger | None = None,
    control: BatchControl | None = None,
    progress: BatchProgress | None = None,
) -> AsyncIterator[BatchResult]:
    """Run the batch; yield each task's final result as it is written."""
    control = control or BatchControl()
    progress = progress if progress is not None else BatchProgress()
    pending = deque(plan(tasks, ledger, settings.retries))
    progress.total, progress.earlier = len(pending), len(tasks) - len(pending)
    if not pending:
        if ledger is not None:
            ledger.compact()  # a killed run may have left a task's older line behind
        return
    slots = await executor.start(ExecutorSetup(options, settings, _batch_key(ledger)))
    running: dict[asyncio.Task[BatchResult], TaskJob] = {}
    try:
        while pending or running:
            while pending and len(running) < slots and not control.stop.is_set():
                job = pending.popleft()
                running[asyncio.create_task(_attempt(executor, job, control))] = job
                progress.running += 1
            if not running:
                break
            written = []
            for result, job in await _next_finished(running, control):
                progress.running -= 1
                if _retry(result, job, settings, control):
                    pending.append(TaskJob(job.task, job.attempt + 1))
                    progress.retried += 1
                    continue
                await _record(result, ledger, progress)
                written.append(result)
            for result in written:  # all written first: the consumer may stop at any yield
                yield result
    finally:
        progress.stopping = True
        if running:  # the consumer stopped early, or the loop failed: cancel, write, tidy up
            control.request_cancel()
            for result in await asyncio.gather(*running):
                progress.running -= 1
                await _record(result, ledger, progress)
        await executor.close()
        if ledger is not None:
            ledger.compact()


async def _attempt(executor: Executor, job: TaskJob, control: BatchControl) -> BatchResult:
    try:
        return await executor.run(job, control.cancel)
    except Exception as err:  # an executor fault must not lose the batch: the task failed
        return BatchResult(
            id=job.task.id,
            status="failed",
            error=f"internal error: {type(err).__name__}: {err}",
            attempts=job.attempt,
            metadata=job.task.metadata,
        )


async def _next_finished(
    running: dict[asyncio.Task[BatchResult], TaskJob], control: BatchControl
) -> list[tuple[BatchResult, TaskJob]]:
    """Wait for at least one attempt to end (or for a stop, which changes what comes next)."""
    waits: set[asyncio.Future[object]] = set(running)  # type: ignore[arg-type]
    stop = None if control.stop.is_set() else asyncio.create_task(control.stop.wait())
    if stop is not None:
        waits.add(stop)  # type: ignore[arg-type]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stop is not None:
            stop.cancel()
    finished = [task for task in running if task.done()]
    return [(task.result(), running.pop(task)) for task in finished]


def _retry(
    result: BatchResult, job: TaskJob, settings: BatchSettings, control: BatchControl
) -> bool:
    return (
        result.status in RETRYABLE
        and job.attempt < settings.retries + 1
        and not control.stop.is_set()
    )


async def _record(result: BatchResult, ledger: Ledger | None, progress: BatchProgress) -> None:
    if ledger is not None:
        # Off the event loop: an fsync can take a while, and the loop streams other tasks' model
        # answers (the request proxy). Awaited, so results are written one at a time, in order.
        await asyncio.to_thread(ledger.append, result)
    progress.count(result)


def _batch_key(ledger: Ledger | None) -> str:
    if ledger is None:
        return secrets.token_hex(6)
    return hashlib.sha256(str(ledger.path).encode()).hexdigest()[:12]
