"""Executors: where the tasks of a batch run, behind one interface.

`Executor.start` is given the batch's options and says how many tasks it runs at once; `run`
runs one attempt and always returns its result (a fault is a `failed` result), returning a
`cancelled` one soon after `cancel` is set; `close` frees everything.

`LocalExecutor` is a pool of exec processes on this machine (`workers` at a time, default: the
CPU count), with one request proxy for all of them. `RayExecutor` (`ray_executor`, imported
only when used) runs each attempt as a Ray task on a cluster.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Protocol

from pycodex._records import dataclass
from pycodex.batch.options import BatchSettings, ExecOptions, pycodex_command
from pycodex.batch.request_gate import GateStats, LocalRequestGate
from pycodex.batch.request_proxy import RequestProxy
from pycodex.batch.results import BatchResult
from pycodex.batch.task_runner import RunnerContext, TaskJob, run_task


@dataclass(frozen=True, slots=True)
class ExecutorSetup:
    options: ExecOptions
    settings: BatchSettings
    batch_key: str
    """Names this batch's working directory (stable across runs of one results file)."""


class Executor(Protocol):
    async def start(self, setup: ExecutorSetup) -> int:
        """Get ready; return how many tasks to keep running at once."""

    async def run(self, job: TaskJob, cancel: asyncio.Event) -> BatchResult: ...

    async def close(self) -> None: ...

    def gate_stats(self) -> GateStats | None:
        """What the request gate saw (None without one)."""


def work_directory(settings: BatchSettings, batch_key: str) -> Path:
    """Where this batch makes working copies on this machine.

    Not under /tmp: a task in the `workspace-write` sandbox may write /tmp, and so could reach
    other tasks' copies and the baselines their diffs start from. The default is the user's
    cache directory (`$XDG_CACHE_HOME/pycodex/batch`, else `~/.cache/pycodex/batch`).
    """
    parent = settings.work_root or default_work_parent()
    return parent / f"batch-{batch_key}"


def default_work_parent() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache) if cache and os.path.isabs(cache) else Path.home() / ".cache"
    return base / "pycodex" / "batch"


class LocalExecutor:
    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers or os.cpu_count() or 1
        self._context: RunnerContext | None = None
        self._gate: LocalRequestGate | None = None

    async def start(self, setup: ExecutorSetup) -> int:
        work_root = work_directory(setup.settings, setup.batch_key)
        await asyncio.to_thread(_fresh_work_root, work_root)
        proxy: RequestProxy | None = None
        if not setup.settings.direct:
            self._gate = LocalRequestGate(setup.settings.max_concurrent_requests)
            proxy = RequestProxy(self._gate)
            await proxy.start()
        self._context = RunnerContext(
            setup.options, setup.settings, work_root, tuple(pycodex_command()), proxy
        )
        return self.workers

    async def run(self, job: TaskJob, cancel: asyncio.Event) -> BatchResult:
        assert self._context is not None, "start() first"
        return await run_task(job, self._context, cancel)

    async def close(self) -> None:
        context, self._context = self._context, None
        if context is None:
            return
        if context.proxy is not None:
            await context.proxy.aclose()
        await asyncio.to_thread(shutil.rmtree, context.work_root, True)

    def gate_stats(self) -> GateStats | None:
        return self._gate.stats if self._gate is not None else None


def _fresh_work_root(work_root: Path) -> None:
    # Left by a run of the same batch that was killed: its attempts start over.
    shutil.rmtree(work_root / "tasks", ignore_errors=True)
    work_root.mkdir(parents=True, exist_ok=True)
