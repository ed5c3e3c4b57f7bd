"""Archiving sessions: moving a rollout file out of `sessions/` and back.

An archived rollout lives flat in `$CODEX_HOME/archived_sessions/` under its own file name, as
upstream Codex keeps them; listing and resuming skip it until it is unarchived, which puts it back
in the dated folder its name gives. Nothing in the file changes, so archiving is lossless.
"""

from __future__ import annotations

import os
from pathlib import Path

from pycodex.sessions.errors import SessionNotFoundError
from pycodex.sessions.paths import parse_rollout_file_name, sessions_root

ARCHIVED_SUBDIR = "archived_sessions"


def archived_root(codex_home: Path) -> Path:
    return codex_home / ARCHIVED_SUBDIR


def archive_session(codex_home: Path, path: Path) -> Path:
    """Move the rollout at `path` into `archived_sessions/`; returns its new path."""
    target = archived_root(codex_home) / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def unarchive_session(codex_home: Path, thread_id: str) -> Path:
    """Move an archived rollout back under `sessions/YYYY/MM/DD/`; returns its path there."""
    path = find_archived_session(codex_home, thread_id)
    parsed = parse_rollout_file_name(path.name)
    assert parsed is not None  # find_archived_session matched the name
    started = parsed[0]
    day = sessions_root(codex_home) / f"{started:%Y}" / f"{started:%m}" / f"{started:%d}"
    day.mkdir(parents=True, exist_ok=True)
    target = day / path.name
    os.replace(path, target)
    return target


def archived_files_newest_first(codex_home: Path) -> list[Path]:
    try:
        entries = list(os.scandir(archived_root(codex_home)))
    except OSError:
        return []
    names = [entry.name for entry in entries if parse_rollout_file_name(entry.name) is not None]
    return [archived_root(codex_home) / name for name in sorted(names, reverse=True)]


def find_archived_session(codex_home: Path, thread_id: str) -> Path:
    """The archived rollout of exactly this thread id; raises SessionNotFoundError."""
    wanted = thread_id.strip().lower()
    for path in archived_files_newest_first(codex_home):
        parsed = parse_rollout_file_name(path.name)
        if parsed is not None and parsed[1] == wanted:
            return path
    raise SessionNotFoundError(thread_id)
