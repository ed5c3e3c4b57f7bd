"""`pycodex batch TASKS.jsonl -o RESULTS.jsonl [batch options] [exec options]`.

The batch's own flags are read first; everything else is an exec flag, read by exec's parser
(so both accept the same spellings) and applied to every task. Exit codes: 0 every task
completed, 1 some task did not, 2 bad usage or input, 130 stopped by Ctrl-C before every task
had a result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pycodex._records import dataclass
from pycodex.cli.exec_args import ExecArgs, UsageError, parse_exec_args

if TYPE_CHECKING:
    from pycodex.batch.executors import Executor
    from pycodex.batch.ledger import Ledger
    from pycodex.batch.options import BatchSettings, ExecOptions
    from pycodex.batch.scheduler import BatchControl, BatchProgress
    from pycodex.batch.tasks import BatchTask

USAGE = """\
usage: pycodex batch TASKS.jsonl -o RESULTS.jsonl [--workers N] [--ray [ADDRESS]] [--retries K]
                     [--max-concurrent-requests M] [--timeout-s S] [--direct] [exec options...]

Runs one `pycodex exec` per task line of TASKS.jsonl and appends one result line per task to
RESULTS.jsonl. Running the same command again resumes: tasks with a result are skipped.

batch options:
  -o, --output RESULTS        the results file (created if missing; also the resume ledger)
  --workers N                 tasks at once (default: the CPU count; with --ray, the cluster's)
  --ray [ADDRESS]             run tasks on Ray: start a local cluster, or join ADDRESS
                              (e.g. auto, ray://host:10001); needs `pip install 'pycodex[ray]'`
  --retries K                 run a failed or timed-out task up to K more times (default 0)
  --max-concurrent-requests M model requests in flight at once over the whole batch
  --timeout-s S               time limit of each exec run (a task's timeout_s beats it)
  --direct                    exec talks to the model server itself (no request cap or
                              shared back-off on 429)
  --forward-env NAME          give every task this variable's value from here (for Ray
                              workers, whose environment is the cluster's)
  --work-root DIR             where working copies are made (default ~/.cache/pycodex/batch;
                              not /tmp, which sandboxed tasks may write)
  --progress-interval S       seconds between progress lines when not on a terminal (10)

exec options (every task, unless the task line says otherwise): -m MODEL, -p PROFILE,
  -c key=value, -s MODE, --full-auto, --yolo, -C DIR (copied for tasks without cwd/repo),
  --add-dir DIR, --ephemeral, --output-schema FILE, -i IMAGE, --oss, --local-provider NAME,
  --vllm-endpoint URL. See docs/batch.md for the task and result lines.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `pycodex batch --help`)")


def _batch_parser() -> _Parser:
    p = _Parser(prog="pycodex batch", add_help=False, allow_abbrev=False)
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--workers", type=int)
    p.add_argument("--ray", nargs="?", const="", default=None)
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("--max-concurrent-requests", type=int)
    p.add_argument("--timeout-s", type=float)
    p.add_argument("--direct", action="store_true")
    p.add_argument("--progress-interval", type=float, default=10.0)
    p.add_argument("--forward-env", action="append", default=[], metavar="NAME")
    p.add_argument("--work-root", type=Path)
    return p


def run_batch_command(argv: list[str]) -> int:
    try:
        ns, rest = _batch_parser().parse_known_args(argv)
        if ns.help:
            sys.stdout.write(USAGE)
            return 0
        exec_args = parse_exec_args(rest)
        tasks_path = _tasks_path(ns, exec_args)
        setup = _setup(ns, exec_args, tasks_path)
    except UsageError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except _InputError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    return _run(setup)


class _InputError(Exception):
    """A tasks file, results file, option value or missing extra: one line, exit 2."""


def _tasks_path(ns: argparse.Namespace, exec_args: ExecArgs) -> Path:
    if exec_args.resume:
        raise UsageError("`resume` is not a batch option")
    if exec_args.prompt is None and ns.ray and Path(ns.ray).is_file():
        ns.ray, exec_args = "", _with_prompt(exec_args, ns.ray)  # `--ray TASKS.jsonl`
    if exec_args.prompt is None or exec_args.prompt == "-":
        raise UsageError("give the tasks file: pycodex batch TASKS.jsonl -o RESULTS.jsonl")
    if ns.output is None:
        raise UsageError("give the results file with -o RESULTS.jsonl")
    if exec_args.output_last_message is not None:
        raise UsageError("-o names the results file; the final messages are in it")
    return Path(exec_args.prompt)


def _with_prompt(args: ExecArgs, prompt: str) -> ExecArgs:
    from pycodex._records import replace

    return replace(args, prompt=prompt)


def _setup(ns: argparse.Namespace, args: ExecArgs, tasks_path: Path) -> _Setup:
    from pycodex.batch.ledger import Ledger, LedgerError
    from pycodex.batch.tasks import TaskFileError, load_tasks

    try:
        tasks = load_tasks(tasks_path)
    except TaskFileError as err:
        raise _InputError(str(err)) from None
    settings = _settings(ns)
    options = _exec_options(args, _forwarded(ns.forward_env))
    executor = _executor(ns)
    try:
        ledger = Ledger.open(ns.output)
    except LedgerError as err:
        raise _InputError(str(err)) from None
    return _Setup(tasks, executor, options, settings, ledger, ns.progress_interval)


@dataclass(frozen=True)
class _Setup:
    tasks: list[BatchTask]
    executor: Executor
    options: ExecOptions
    settings: BatchSettings
    ledger: Ledger
    interval: float


def _settings(ns: argparse.Namespace) -> BatchSettings:
    from pycodex.batch.options import BatchSettings

    if ns.workers is not None and ns.workers < 1:
        raise _InputError("--workers must be at least 1")
    if ns.progress_interval <= 0:
        raise _InputError("--progress-interval must be positive")
    try:
        return BatchSettings(
            retries=ns.retries,
            timeout_s=ns.timeout_s,
            max_concurrent_requests=ns.max_concurrent_requests,
            direct=ns.direct,
            work_root=Path(os.path.abspath(ns.work_root)) if ns.work_root else None,
        )
    except ValueError as err:
        raise _InputError(_flag_message(str(err))) from None


def _flag_message(message: str) -> str:
    for name in ("retries", "timeout_s", "max_concurrent_requests"):
        message = message.replace(name, "--" + name.replace("_", "-"))
    return message.replace("(not direct)", "(drop --direct)")


def _forwarded(names: list[str]) -> dict[str, str]:
    missing = [name for name in names if name not in os.environ]
    if missing:
        raise _InputError(f"--forward-env: {missing[0]} is not set here")
    return {name: os.environ[name] for name in names}


def _exec_options(args: ExecArgs, env: dict[str, str]) -> ExecOptions:
    from pycodex.batch.options import ExecOptions
    from pycodex.batch.toml_values import toml_value
    from pycodex.cli.local_provider import local_overrides

    schema = _absolute(args.output_schema)
    if schema is not None:
        _check_schema(schema)
    images = tuple(Path(os.path.abspath(p)) for p in args.images)
    for image in images:
        if not image.is_file():
            raise _InputError(f"--image: {image} is not a readable file")
    if args.cd is not None and not args.cd.is_dir():
        raise _InputError(f"-C: {args.cd} is not a directory")
    # The local-server flags stand for `-c` pairs; written out, the batch's request proxy sees
    # the provider they choose. The flags still go to exec, which picks the served model.
    local = [f"{key}={toml_value(value)}" for key, value in local_overrides(args, os.environ)]
    extra: list[str] = ["--oss"] if args.oss else []
    if args.local_provider is not None:
        extra += ["--local-provider", args.local_provider]
    if args.vllm_endpoint is not None:
        extra += ["--vllm-endpoint", args.vllm_endpoint]
    return ExecOptions(
        model=args.model,
        profile=args.profile,
        sandbox=args.sandbox,
        full_auto=args.full_auto,
        yolo=args.yolo,
        cd=_absolute(args.cd),
        add_dirs=tuple(Path(os.path.abspath(d)) for d in args.add_dirs),
        ephemeral=args.ephemeral,
        config=(*local, *args.config),
        output_schema=schema,
        images=images,
        extra_args=tuple(extra),
        env=env,
    )


def _absolute(path: Path | None) -> Path | None:
    return Path(os.path.abspath(path)) if path is not None else None


def _check_schema(path: Path) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise _InputError(f"--output-schema: cannot read {path}: {err.strerror}") from None
    except ValueError as err:
        raise _InputError(f"--output-schema: {path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise _InputError(f"--output-schema: {path} must contain a JSON object")


def _executor(ns: argparse.Namespace) -> Executor:
    if ns.ray is None:
        from pycodex.batch.executors import LocalExecutor

        return LocalExecutor(ns.workers)
    from pycodex.batch.ray_executor import RayExecutor, RayUnavailable, import_ray

    try:
        import_ray()  # say so now, not after the tasks were read and the results file opened
    except RayUnavailable as err:
        raise _InputError(str(err)) from None
    return RayExecutor(ns.ray or None, workers=ns.workers)


def _run(setup: _Setup) -> int:
    from pycodex.batch.ray_executor import RayUnavailable

    try:
        return asyncio.run(_main(setup))
    except RayUnavailable as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    finally:
        setup.ledger.close()


async def _main(setup: _Setup) -> int:
    from pycodex.batch.progress import ProgressDisplay
    from pycodex.batch.scheduler import BatchControl, BatchProgress, run_batch

    control, progress = BatchControl(), BatchProgress()
    _handle_signals(control, progress)
    display = ProgressDisplay(
        progress, sys.stderr, live=sys.stderr.isatty(), interval_s=setup.interval
    )
    shown = asyncio.create_task(display.run())
    try:
        async for result in run_batch(
            setup.tasks, setup.executor, options=setup.options, settings=setup.settings,
            ledger=setup.ledger, control=control, progress=progress,
        ):  # fmt: skip
            display.finished(result)
    finally:
        shown.cancel()
        await asyncio.gather(shown, return_exceptions=True)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    display.summary(setup.executor.gate_stats(), setup.ledger.path)
    return _exit_code(setup, control)


def _handle_signals(control: BatchControl, progress: BatchProgress) -> None:
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        if not control.stop.is_set():
            control.request_stop()
            sys.stderr.write(
                f"\nstopping: no new tasks; {progress.running} running will finish "
                "(Ctrl-C again cancels them)\n"
            )
        elif not control.cancel.is_set():
            control.request_cancel()
            sys.stderr.write(f"\ncancelling {progress.running} running tasks\n")
        progress.stopping = True

    def terminate() -> None:
        control.request_cancel()
        progress.stopping = True

    loop.add_signal_handler(signal.SIGINT, interrupt)
    loop.add_signal_handler(signal.SIGTERM, terminate)


def _exit_code(setup: _Setup, control: BatchControl) -> int:
    results = setup.ledger.latest
    done = [results.get(task.key) for task in setup.tasks]
    if all(result is not None and result.status == "completed" for result in done):
        return 0
    return 130 if control.stop.is_set() else 1
