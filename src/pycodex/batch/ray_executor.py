"""`RayExecutor`: each task attempt is a Ray task that runs the agent on a worker and returns its
result line.

`start` joins the cluster at `address` (`ray.init(address=...)`: `"auto"`, `"ray://host:10001"`,
or None to start a local one), unless this process is connected already. Ray is an optional
extra (`pip install 'pycodex[ray]'`), imported here only. The workers need pycodex installed,
and the paths a task names (`cwd`, images, schema files, a local `repo`) must exist on them (a
shared filesystem); a `repo` URL works anywhere. Working copies and session files are made on
the worker that runs the task; `session_file` in a result is a path on that machine.

Cancelling an attempt is `ray.cancel`: the worker stops the exec process and the attempt is
reported `cancelled` without its diff (Ray drops the return value of a cancelled task).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from pycodex.batch.executors import ExecutorSetup
from pycodex.batch.ray_worker import GateActor, owner_of, run_on_worker
from pycodex.batch.request_gate import GateStats
from pycodex.batch.results import BatchResult
from pycodex.batch.task_runner import TaskJob

RAY_MISSING = "Ray is not installed; install it with: pip install 'pycodex[ray]'"


class RayUnavailable(Exception):
    """Ray cannot be used (not installed, or the cluster cannot be joined); one line."""


class RayExecutor:
    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        cpus_per_task: float = 1.0,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self.address = address
        self.workers = workers
        self.cpus_per_task = cpus_per_task
        self._init_options = dict(init_options or {})
        self._ray: Any = None
        self._remote: Any = None
        self._gate: Any = None
        self._payload: tuple[Any, ...] = ()
        self._stats: GateStats | None = None
        self._started_cluster = False

    async def start(self, setup: ExecutorSetup) -> int:
        ray = import_ray()
        self._ray = ray
        if not ray.is_initialized():
            await asyncio.to_thread(self._connect, ray)
        self._remote = ray.remote(num_cpus=self.cpus_per_task, max_retries=0)(run_on_worker)
        if not setup.settings.direct:
            actor = ray.remote(GateActor).options(max_concurrency=10_000)
            self._gate = actor.remote(setup.settings.max_concurrent_requests)
        self._payload = (setup.options.to_wire(), setup.settings.to_wire(), setup.batch_key)
        if self.workers is not None:
            return self.workers
        cpus = float(ray.cluster_resources().get("CPU", 1))
        return max(1, int(cpus / self.cpus_per_task))

    def _connect(self, ray: Any) -> None:
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
            **self._init_options,
        }
        try:
            ray.init(address=self.address, **options)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = self.address or "a new local cluster"
            raise RayUnavailable(f"cannot start or join Ray ({where}): {err}") from None
        self._started_cluster = True

    async def run(self, job: TaskJob, cancel: asyncio.Event) -> BatchResult:
        ray = self._ray
        ref = self._remote.remote(job.task.to_wire(), job.attempt, *self._payload, self._gate)
        outcome = asyncio.wrap_future(ref.future())
        cancelled = asyncio.create_task(cancel.wait())
        try:
            await asyncio.wait({outcome, cancelled}, return_when=asyncio.FIRST_COMPLETED)
            if not outcome.done():
                ray.cancel(ref)
            try:
                return BatchResult.from_wire(await outcome)
            except (ray.exceptions.TaskCancelledError, asyncio.CancelledError):
                return _result(job, "cancelled", "cancelled")
            except ray.exceptions.RayError as err:
                return _result(job, "failed", f"ray: {_first_line(str(err))}")
        finally:
            cancelled.cancel()
            if self._gate is not None:
                self._gate.release_owner.remote(owner_of(job))

    async def close(self) -> None:
        ray, self._ray = self._ray, None
        if ray is None:
            return
        if self._gate is not None:
            wire = await asyncio.wrap_future(self._gate.stats.remote().future())
            self._stats = GateStats(**wire)
            ray.kill(self._gate)
            self._gate = None
        if self._started_cluster:
            await asyncio.to_thread(ray.shutdown)

    def gate_stats(self) -> GateStats | None:
        return self._stats


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailable(RAY_MISSING) from None
    return ray


def _result(job: TaskJob, status: Any, error: str) -> BatchResult:
    return BatchResult(
        id=job.task.id, status=status, error=error, attempts=job.attempt,
        metadata=job.task.metadata,
    )  # fmt: skip


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "task failed"
