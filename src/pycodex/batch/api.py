"""The Python face of `pycodex batch`: `run` (a blocking iterator) and `arun` (async).

    from pycodex.batch import LocalExecutor, run

    tasks = [{"id": 1, "prompt": "Fix the failing test", "repo": "/src/project", "ref": "main"}]
    for result in run(tasks, executor=LocalExecutor(workers=4), results="results.jsonl"):
        print(result.id, result.status, result.final_message)

Both yield each task's final result as it is written. With `results=PATH` the batch is
resumable exactly as on the command line: tasks that already have a result are not run again
(and are not yielded; `read_results(PATH)` has them all).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from pycodex.batch.executors import Executor, LocalExecutor
from pycodex.batch.ledger import Ledger
from pycodex.batch.options import BatchSettings, ExecOptions
from pycodex.batch.results import BatchResult
from pycodex.batch.scheduler import BatchControl, BatchProgress, run_batch
from pycodex.batch.tasks import BatchTask, TaskFileError, task_from_mapping

TaskLike = BatchTask | Mapping[str, Any]


async def arun(
    tasks: Iterable[TaskLike],
    executor: Executor | None = None,
    *,
    exec_options: ExecOptions | None = None,
    settings: BatchSettings | None = None,
    results: str | Path | Ledger | None = None,
    control: BatchControl | None = None,
    progress: BatchProgress | None = None,
) -> AsyncIterator[BatchResult]:
    """Run the batch in the running event loop, yielding results as tasks finish.

    `results` is the results file (opened and locked here), or a `Ledger` the caller opened
    (and closes)."""
    task_list = as_tasks(tasks)
    owned = not isinstance(results, Ledger)
    ledger = results if isinstance(results, Ledger) else _open(results)
    try:
        async for result in run_batch(
            task_list, executor or LocalExecutor(), options=exec_options or ExecOptions(),
            settings=settings or BatchSettings(), ledger=ledger, control=control,
            progress=progress,
        ):  # fmt: skip
            yield result
    finally:
        if ledger is not None and owned:
            ledger.close()


def _open(results: str | Path | None) -> Ledger | None:
    return Ledger.open(Path(results)) if results is not None else None


def run(
    tasks: Iterable[TaskLike],
    executor: Executor | None = None,
    *,
    exec_options: ExecOptions | None = None,
    settings: BatchSettings | None = None,
    results: str | Path | None = None,
) -> BatchRun:
    """Start the batch on its own event loop (a background thread); iterate to get results.

    Bad tasks and an unusable results file are reported here, before anything starts."""
    task_list = as_tasks(tasks)
    batch = BatchRun(task_list, executor, exec_options, settings, _open(results))
    batch.start()
    return batch


def as_tasks(tasks: Iterable[TaskLike]) -> list[BatchTask]:
    """Task records from records or task-line mappings; ids must be unique."""
    task_list = [t if isinstance(t, BatchTask) else task_from_mapping(t) for t in tasks]
    seen: set[str] = set()
    for task in task_list:
        if task.key in seen:
            raise TaskFileError(f"task id {task.id!r} is used twice")
        seen.add(task.key)
    return task_list


class BatchRun(Iterator[BatchResult]):
    """A batch running in a background thread. Iterating blocks for the next result; `stop()`
    lets running tasks finish and starts no more; `close()` (or leaving a `with` block)
    cancels what is still running and waits for its results to be written. Read it from one
    thread."""

    def __init__(
        self,
        tasks: list[BatchTask],
        executor: Executor | None,
        exec_options: ExecOptions | None,
        settings: BatchSettings | None,
        ledger: Ledger | None,
    ) -> None:
        self.progress = BatchProgress()
        self._args = (tasks, executor, exec_options, settings, ledger)
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._control: BatchControl | None = None
        self._started = threading.Event()
        self._finished = False

    def __iter__(self) -> BatchRun:
        return self

    def start(self) -> None:
        """Start the batch (`run` does); results wait in a queue until they are read."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="pycodex-batch", daemon=True)
            self._thread.start()

    def __next__(self) -> BatchResult:
        if self._finished:
            raise StopIteration
        self.start()
        assert self._thread is not None
        kind, value = self._queue.get()
        if kind == "result":
            return value  # type: ignore[no-any-return]
        self._finished = True
        self._thread.join()
        if kind == "error":
            raise value
        raise StopIteration

    def stop(self) -> None:
        self._signal(lambda control: control.request_stop())

    def close(self) -> None:
        """Cancel running tasks, write their results, and wait for the batch to end."""
        if self._thread is None or self._finished:
            self._finished = True
            ledger = self._args[4]
            if self._thread is None and ledger is not None:
                ledger.close()
            return
        self._signal(lambda control: control.request_cancel())
        while not self._finished:
            kind, _ = self._queue.get()
            self._finished = kind != "result"
        self._thread.join()

    def __enter__(self) -> BatchRun:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _signal(self, action: Any) -> None:
        if self._thread is None:
            return
        self._started.wait()
        if self._loop is not None and self._control is not None:
            control = self._control
            self._loop.call_soon_threadsafe(action, control)

    def _main(self) -> None:
        ledger = self._args[4]
        try:
            asyncio.run(self._drive())
        except BaseException as err:
            self._queue.put(("error", err))
        else:
            self._queue.put(("done", None))
        finally:
            self._started.set()
            if ledger is not None:
                ledger.close()

    async def _drive(self) -> None:
        tasks, executor, exec_options, settings, results = self._args
        self._loop = asyncio.get_running_loop()
        self._control = BatchControl()
        self._started.set()
        async for result in arun(
            tasks, executor, exec_options=exec_options, settings=settings, results=results,
            control=self._control, progress=self.progress,
        ):  # fmt: skip
            self._queue.put(("result", result))
