"""One attempt at one task, on this machine: working copy, exec, diff, result.

Used by every executor: the local pool calls it in the batch process, a Ray worker calls it in
the worker process. It never raises for a task that goes wrong; that is a `failed` result.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
from datetime import timedelta
from pathlib import Path

from pycodex._records import dataclass
from pycodex.batch import workcopy
from pycodex.batch.exec_process import ExecRun, run_exec
from pycodex.batch.options import BatchSettings, ExecOptions, exec_arguments
from pycodex.batch.request_proxy import RequestProxy
from pycodex.batch.results import BatchResult, Status
from pycodex.batch.tasks import BatchTask


@dataclass(frozen=True, slots=True)
class TaskJob:
    task: BatchTask
    attempt: int
    """1 for the first attempt; counts on across runs of the same results file."""


@dataclass(frozen=True, slots=True)
class RunnerContext:
    options: ExecOptions
    settings: BatchSettings
    work_root: Path
    command: tuple[str, ...]
    """How to start pycodex (see `options.pycodex_command`)."""
    proxy: RequestProxy | None = None


async def run_task(job: TaskJob, context: RunnerContext, cancel: asyncio.Event) -> BatchResult:
    started = time.monotonic()
    task, options = job.task, context.options
    task_dir = context.work_root / "tasks" / _directory_name(job)
    try:
        await asyncio.to_thread(_fresh_directory, task_dir)
        copy = await asyncio.to_thread(
            workcopy.prepare, task, options.cd, task_dir, context.work_root
        )
        schema = _schema_file(task, options, task_dir)
    except (workcopy.WorkingCopyError, OSError) as err:
        await asyncio.to_thread(workcopy.remove, task_dir)
        return _result(job, "failed", started, error=_describe(err))
    try:
        argv = [*context.command, *exec_arguments(options, task, copy.path, schema)]
        if context.proxy is not None:
            argv += context.proxy.overrides_for(options, task)
        env = {**os.environ, **options.env}
        timeout_s = task.timeout_s or context.settings.timeout_s
        run = await run_exec(
            [*argv, "-"], task.prompt, env, timeout_s=timeout_s, cancel=cancel,
            grace_s=context.settings.cancel_grace_s,
        )  # fmt: skip
        try:
            diff: str | None = await asyncio.to_thread(workcopy.diff, copy)
        except workcopy.WorkingCopyError:
            diff = None
        thread_id = run.transcript.thread_id
        session = None if options.ephemeral else await asyncio.to_thread(
            _session_file, env, thread_id
        )  # fmt: skip
        return _finish(job, run, started, diff, schema is not None, timeout_s, session)
    finally:
        await asyncio.to_thread(workcopy.remove, task_dir)


def _finish(
    job: TaskJob,
    run: ExecRun,
    started: float,
    diff: str | None,
    with_schema: bool,
    timeout_s: float | None,
    session_file: str | None,
) -> BatchResult:
    transcript = run.transcript
    status: Status
    error: str | None = None
    if run.ended_by == "cancel":
        status, error = "cancelled", "cancelled"
    elif run.ended_by == "timeout":
        status, error = "timed_out", f"timed out after {timeout_s:g} s"
    elif run.returncode == 0:
        status = "completed"
    else:
        status, error = "failed", _failure(run)
    final: object = transcript.final_message
    if with_schema and transcript.final_message is not None:
        try:
            final = json.loads(transcript.final_message)
        except ValueError as err:
            if status == "completed":
                status, error = "failed", f"the final message is not valid JSON: {err}"
    exit_code = run.returncode if run.returncode is not None and run.returncode >= 0 else None
    return _result(
        job, status, started, final_message=final, usage=transcript.usage, exit_code=exit_code,
        error=error, thread_id=transcript.thread_id, diff=diff,
        session_file=session_file,
    )  # fmt: skip


def _failure(run: ExecRun) -> str:
    transcript = run.transcript
    if run.spawn_error is not None:
        return run.spawn_error
    if transcript.turn_error or transcript.last_error:
        return transcript.turn_error or transcript.last_error or ""
    lines = [line.strip() for line in run.stderr_tail.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith(("error", "fatal"))]
    if errors or lines:
        return (errors or lines)[-1]
    if run.returncode is not None and run.returncode < 0:
        return f"exec was killed by signal {-run.returncode}"
    return f"exec exited with code {run.returncode}"


def _result(job: TaskJob, status: Status, started: float, **fields: object) -> BatchResult:
    return BatchResult(
        id=job.task.id,
        status=status,
        duration_s=round(time.monotonic() - started, 3),
        attempts=job.attempt,
        metadata=job.task.metadata,
        **fields,  # type: ignore[arg-type]
    )


def _schema_file(task: BatchTask, options: ExecOptions, task_dir: Path) -> Path | None:
    schema = task.output_schema if task.output_schema is not None else options.output_schema
    if isinstance(schema, dict):
        path = task_dir / "output_schema.json"
        path.write_text(json.dumps(schema), encoding="utf-8")
        return path
    return schema


def _session_file(env: dict[str, str], thread_id: str | None) -> str | None:
    """The rollout file of `thread_id`: named by the second the thread's recorder started,
    which is at or just after the time in the UUIDv7 thread id."""
    if thread_id is None:
        return None
    from pycodex.config import ConfigError
    from pycodex.config.files import find_codex_home
    from pycodex.sessions.ids import timestamp_of
    from pycodex.sessions.paths import rollout_path

    try:
        home = find_codex_home(env)
        created = timestamp_of(thread_id)
    except (ConfigError, ValueError):
        return None
    for seconds in range(6):
        path = rollout_path(home, thread_id, created + timedelta(seconds=seconds))
        if path.is_file():
            return str(path)
    day = rollout_path(home, thread_id, created).parent
    return next((str(found) for found in day.glob(f"rollout-*-{thread_id}.jsonl")), None)


def _fresh_directory(path: Path) -> None:
    workcopy.remove(path)  # left by an attempt of a batch that was killed
    path.mkdir(parents=True)


def _directory_name(job: TaskJob) -> str:
    key = job.task.key
    readable = re.sub(r"[^A-Za-z0-9._-]", "_", key)[:40]
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return f"{readable}-{digest}-a{job.attempt}"


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        where = f" {err.filename}" if err.filename else ""
        return f"cannot prepare the task{where}: {err.strerror}"
    return str(err)
