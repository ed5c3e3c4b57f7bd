"""`pycodex sessions` (list recorded sessions) and `pycodex fork` (copy one into a new thread)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import NoReturn

from pycodex.agent.rollout import RolloutLoadError, fork_thread, load_thread
from pycodex.config import ConfigError, ConfigOverrides, resolve_config
from pycodex.sessions import (
    SessionError,
    find_session,
    latest_session,
    list_sessions,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def run_sessions_command(argv: list[str]) -> int:
    parser = _Parser(prog="pycodex sessions", description="List recorded sessions, newest first.")
    parser.add_argument("-C", "--cd", type=Path, help="list sessions of this directory")
    parser.add_argument("--all", action="store_true", help="sessions of every directory")
    parser.add_argument("-n", "--limit", type=int, default=20)
    args = parser.parse_args(argv)
    try:
        config = resolve_config(ConfigOverrides(cwd=args.cd), env=os.environ)
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    cwd = None if args.all else config.cwd
    sessions = list_sessions(config.codex_home, cwd, limit=args.limit)
    if not sessions:
        where = "any directory" if cwd is None else str(cwd)
        sys.stdout.write(f"no recorded sessions for {where}\n")
        return 0
    for summary in sessions:
        started = summary.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
        message = " ".join(summary.first_user_message.split())
        if len(message) > 60:
            message = message[:57] + "..."
        size = _human_size(summary.size_bytes)
        sys.stdout.write(f"{summary.thread_id}  {started}  {size:>7}  {message}\n")
    return 0


def run_fork_command(argv: list[str]) -> int:
    parser = _Parser(prog="pycodex fork", description="Copy a session into a new thread.")
    parser.add_argument("session_id", nargs="?", help="id (or unique prefix) of the session")
    parser.add_argument("--last", action="store_true", help="the newest session of this directory")
    args = parser.parse_args(argv)
    if (args.session_id is None) == (not args.last):
        sys.stderr.write("error: fork needs a SESSION_ID or --last (not both)\n")
        return 2
    try:
        config = resolve_config(ConfigOverrides(), env=os.environ)
        source = _source_path(config.codex_home, config.cwd, args.session_id)
        recorded = load_thread(source)
    except (ConfigError, SessionError, RolloutLoadError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    thread_id, path = asyncio.run(fork_thread(config.codex_home, config.cwd, recorded))
    sys.stdout.write(f"{thread_id}\n")
    sys.stderr.write(
        f"forked {recorded.thread_id} into {thread_id} ({path}); continue it with "
        f'`pycodex exec resume {thread_id} "…"`\n'
    )
    return 0


def _source_path(codex_home: Path, cwd: Path, session_id: str | None) -> Path:
    if session_id is not None:
        return find_session(codex_home, session_id)
    path = latest_session(codex_home, cwd)
    if path is None:
        raise SessionError(f"no recorded session for {cwd} to fork")
    return path


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
