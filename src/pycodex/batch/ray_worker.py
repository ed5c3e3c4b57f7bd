"""What runs on Ray workers: one task attempt (`run_on_worker`) and the request gate actor.

Nothing here imports Ray: `ray_executor` wraps these with `ray.remote` when a batch asks for
Ray. The attempt runs exactly as in the local pool (`task_runner.run_task`), with its working
copy under the worker's temporary directory and its own request proxy, whose gate is the
batch's one `GateActor`. The driver gives back whatever slots an attempt still holds when it
ends (a cancelled attempt may not have released them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path
from typing import Any

from pycodex.batch.executors import work_directory
from pycodex.batch.options import BatchSettings, ExecOptions, pycodex_command
from pycodex.batch.request_gate import LocalRequestGate
from pycodex.batch.request_proxy import RequestProxy
from pycodex.batch.results import BatchResult
from pycodex.batch.task_runner import RunnerContext, TaskJob, run_task
from pycodex.batch.tasks import parse_task


def run_on_worker(
    task_line: dict[str, Any],
    attempt: int,
    options: dict[str, Any],
    settings: dict[str, Any],
    batch_key: str,
    gate: Any,
) -> dict[str, Any]:
    """Run one attempt; return its result line."""
    job = TaskJob(parse_task(task_line, Path("/")), attempt)
    result = asyncio.run(
        _run(
            job, ExecOptions.from_wire(options), BatchSettings.from_wire(settings), batch_key, gate
        )
    )
    return result.to_wire()


async def _run(
    job: TaskJob, options: ExecOptions, settings: BatchSettings, batch_key: str, gate: Any
) -> BatchResult:
    work_root = work_directory(settings, batch_key)
    await asyncio.to_thread(work_root.mkdir, parents=True, exist_ok=True)
    proxy = RequestProxy(ActorGate(gate, owner_of(job))) if gate is not None else None
    if proxy is not None:
        await proxy.start()
    context = RunnerContext(options, settings, work_root, tuple(pycodex_command()), proxy)
    try:
        return await run_task(job, context, asyncio.Event())
    finally:
        if proxy is not None:
            await proxy.aclose()
        for directory in (work_root / "tasks", work_root):
            with contextlib.suppress(OSError):  # in use by another task here, or a repo cache
                directory.rmdir()


def owner_of(job: TaskJob) -> str:
    return f"{job.task.key}#{job.attempt}"


class ActorGate:
    """A `RequestGate` whose state lives in the batch's `GateActor`."""

    def __init__(self, actor: Any, owner: str) -> None:
        self._actor = actor
        self._owner = owner

    async def acquire(self) -> None:
        await self._actor.acquire.remote(self._owner)

    async def release(self) -> None:
        await self._actor.release.remote(self._owner)

    async def rate_limited(self, retry_after_s: float | None) -> None:
        await self._actor.rate_limited.remote(retry_after_s)

    async def succeeded(self) -> None:
        await self._actor.succeeded.remote()


class GateActor:
    """The batch's request gate, as an async Ray actor; it counts the slots each attempt holds."""

    def __init__(self, limit: int | None) -> None:
        self._gate = LocalRequestGate(limit)
        self._held: Counter[str] = Counter()

    async def acquire(self, owner: str) -> None:
        await self._gate.acquire()
        self._held[owner] += 1

    async def release(self, owner: str) -> None:
        if self._held[owner] > 0:
            self._held[owner] -= 1
            await self._gate.release()

    async def release_owner(self, owner: str) -> None:
        for _ in range(self._held.pop(owner, 0)):
            await self._gate.release()

    async def rate_limited(self, retry_after_s: float | None) -> None:
        await self._gate.rate_limited(retry_after_s)

    async def succeeded(self) -> None:
        await self._gate.succeeded()

    async def stats(self) -> dict[str, float]:
        return self._gate.stats.to_wire()
