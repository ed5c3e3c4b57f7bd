"""Batches of agent tasks (layer L4): many `pycodex exec` runs, on one machine or a Ray cluster.

- `tasks`        task lines -> `BatchTask`; `load_tasks`, `TaskFileError`
- `results`      `BatchResult` and its JSON line
- `ledger`       the results file: locked, appended and fsync'd per task, resumable
- `options`      `ExecOptions` (exec flags for every task), `BatchSettings`, the exec command line
- `workcopy`     per-task working copies (clone of a repo at a ref, copy of a directory) and diffs
- `exec_process` one exec process: start, read, time out, cancel
- `exec_stream`  reading `exec --json` output
- `task_runner`  one attempt at one task
- `request_gate`, `request_proxy`  the batch-wide cap on model requests and the 429 back-off
- `executors`    the `Executor` interface and `LocalExecutor`
- `ray_executor`, `ray_worker`  `RayExecutor` (Ray imported only there)
- `scheduler`    the batch loop: retries, stop/cancel, progress counters
- `progress`     the progress bar, plain progress lines, the summary table
- `api`          `run` / `arun`

    from pycodex.batch import LocalExecutor, run
    for result in run(tasks, executor=LocalExecutor(workers=4), results="results.jsonl"):
        ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pycodex._lazy import lazy_attributes

if TYPE_CHECKING:
    from pycodex.batch.api import BatchRun, arun, run
    from pycodex.batch.executors import Executor, LocalExecutor
    from pycodex.batch.ledger import LedgerError, read_results
    from pycodex.batch.options import BatchSettings, ExecOptions
    from pycodex.batch.ray_executor import RayExecutor, RayUnavailable
    from pycodex.batch.results import BatchResult
    from pycodex.batch.scheduler import BatchControl, BatchProgress
    from pycodex.batch.tasks import BatchTask, TaskFileError, load_tasks

_EXPORTS = {
    "BatchRun": "pycodex.batch.api",
    "arun": "pycodex.batch.api",
    "run": "pycodex.batch.api",
    "Executor": "pycodex.batch.executors",
    "LocalExecutor": "pycodex.batch.executors",
    "LedgerError": "pycodex.batch.ledger",
    "read_results": "pycodex.batch.ledger",
    "BatchSettings": "pycodex.batch.options",
    "ExecOptions": "pycodex.batch.options",
    "RayExecutor": "pycodex.batch.ray_executor",
    "RayUnavailable": "pycodex.batch.ray_executor",
    "BatchResult": "pycodex.batch.results",
    "BatchControl": "pycodex.batch.scheduler",
    "BatchProgress": "pycodex.batch.scheduler",
    "BatchTask": "pycodex.batch.tasks",
    "TaskFileError": "pycodex.batch.tasks",
    "load_tasks": "pycodex.batch.tasks",
}

__all__ = [
    "BatchControl",
    "BatchProgress",
    "BatchResult",
    "BatchRun",
    "BatchSettings",
    "BatchTask",
    "ExecOptions",
    "Executor",
    "LedgerError",
    "LocalExecutor",
    "RayExecutor",
    "RayUnavailable",
    "TaskFileError",
    "arun",
    "load_tasks",
    "read_results",
    "run",
]

__getattr__ = lazy_attributes(__name__, _EXPORTS)
