"""`pycodex memories update | show`: the memory pipeline on demand, and its summary.

pycodex memories update     mine eligible sessions and consolidate now (waits for a running
                            update first); for cron and CI. Exit 1 when a job failed.
pycodex memories show       print memory_summary.md

`--background` (what a session starts, detached) does not wait: when another update holds the
lock it exits at once, and it writes its report to stderr (the memories log) only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import time
from typing import NoReturn

from pycodex.config import Config, ConfigError, ConfigOverrides, parse_cli_override, resolve_config

USAGE = "usage: pycodex memories update [-m MODEL] [-p PROFILE] [-c key=value] | show\n"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message} (see `pycodex memories --help`)\n")
        raise SystemExit(2)


def _parser() -> _Parser:
    parser = _Parser(prog="pycodex memories", description="The memory pipeline and its summary.")
    parser.add_argument("action", choices=["update", "show"])
    parser.add_argument("-m", "--model", help="the model used unless [memories] names one")
    parser.add_argument("-p", "--profile")
    parser.add_argument("-c", "--config", action="append", default=[])
    parser.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--thread", help=argparse.SUPPRESS)
    return parser


def run_memories_command(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write(USAGE)
        return 2
    args = _parser().parse_args(argv)
    try:
        config = resolve_config(
            ConfigOverrides(
                model=args.model,
                profile=args.profile,
                cli_overrides=[parse_cli_override(raw) for raw in args.config],
            ),
            env=os.environ,
        )
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    if args.action == "show":
        return _show(config)
    if not config.memories_enabled:
        sys.stderr.write(
            f"error: memories are off; set `memories = true` under [features] in "
            f"{config.config_file}\n"
        )
        return 2
    return _update(config, background=args.background, thread_id=args.thread)


def _show(config: Config) -> int:
    from pycodex.context.memory_summary import read_summary, summary_path

    summary = read_summary(config.codex_home)
    if summary is None:
        sys.stderr.write(f"no memory summary yet ({summary_path(config.codex_home)})\n")
        return 1
    sys.stdout.write(summary if summary.endswith("\n") else summary + "\n")
    return 0


def _update(config: Config, *, background: bool, thread_id: str | None) -> int:
    from pycodex.memories import lock
    from pycodex.memories.layout import memory_paths
    from pycodex.memories.pipeline import PipelineOptions, run_pipeline

    paths = memory_paths(config.codex_home)
    held = lock.acquire(paths.lock, wait=False)
    if held is None:
        if background:
            return 0  # another worker is on it
        pid = lock.holder(paths.lock)
        sys.stderr.write(f"waiting for the memory update of process {pid or '?'} to finish…\n")
        held = lock.acquire(paths.lock, wait=True)
        assert held is not None
    options = PipelineOptions(trigger_thread_id=thread_id, force=not background)
    with held:  # the report is written before the lock goes: waiters see it complete
        try:
            report = asyncio.run(run_pipeline(config, options))
        except KeyboardInterrupt:
            # The jobs it held are taken over by the next run (their owner is gone).
            sys.stderr.write("memory update interrupted\n")
            return 130
        except (sqlite3.Error, OSError) as err:
            sys.stderr.write(f"error: memory store {paths.database}: {err}\n")
            return 1
        _write_report(report.lines(), background)
    return 0 if report.ok else 1


def _write_report(lines: list[str], background: bool) -> None:
    if not background:
        sys.stdout.write("".join(f"{line}\n" for line in lines))
        sys.stdout.flush()
        return
    prefix = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} memories [{os.getpid()}]: "
    sys.stderr.write("".join(f"{prefix}{line}\n" for line in lines))
    sys.stderr.flush()
