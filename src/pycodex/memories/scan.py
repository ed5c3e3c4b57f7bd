"""Which recorded sessions the pipeline may mine.

Upstream indexes session files into a database once and never sees files added later; pycodex
scans `$CODEX_HOME/sessions/` on every run instead, which stays cheap: one `stat` per file (the
thread id is in the file name), and the first line of a file is read only the first time a
session falls inside the window. A session is eligible when

- its file was last written between `max_rollout_age_days` ago and `min_rollout_idle_hours` ago
  (the file's mtime is the session's "updated at");
- it was started by a person in an interactive frontend (`source` `cli` or `vscode`): never
  `exec`, sub-agents, forks or internal threads;
- it was not recorded with `memory_mode = "disabled"` (`generate_memories = false`);
- it is not the session that triggered this run, and that version of its file was not mined
  already (`store.needs_mining`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.config.memories import MemoriesConfig
from pycodex.memories.store import Candidate, MemoryStore, needs_mining

INTERACTIVE_SOURCES = frozenset({"cli", "vscode"})
# A session_meta line holds the base instructions (~20 KB); a first line longer than this is
# not one pycodex or Codex wrote.
MAX_HEAD_BYTES = 4 * 1024 * 1024
HOUR_S = 3600.0
# `rollout-<local start time>-<thread id>.jsonl` (sessions/paths.py); the group is the id.
_ROLLOUT_NAME = re.compile(
    r"rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-"
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\.jsonl\Z"
)
DAY_S = 24 * HOUR_S


@dataclass(frozen=True)
class SessionHead:
    """What the first record of a session file says, as far as memories care."""

    thread_id: str
    source: Any
    memory_mode: str | None
    cwd: str
    started_at: str
    git_branch: str | None

    @property
    def skip_reason(self) -> str | None:
        if self.memory_mode == "disabled":
            return "memory_mode disabled"
        if not isinstance(self.source, str) or self.source not in INTERACTIVE_SOURCES:
            return f"source {json.dumps(self.source)} is not interactive"
        return None


def rollout_files(sessions: Path) -> Iterator[tuple[str, str, float]]:
    """(thread id, path, mtime) of every rollout file under `sessions/YYYY/MM/DD/`.

    Paths stay strings and names are matched by one regex: this runs once per session file at
    every session start, and `Path` objects and datetimes would be most of its cost."""
    for year in _subdirs(sessions):
        for month in _subdirs(year):
            for day in _subdirs(month):
                yield from _day_files(day)


def _subdirs(directory: Path | str) -> list[str]:
    try:
        with os.scandir(directory) as entries:
            return [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _day_files(day: str) -> Iterator[tuple[str, str, float]]:
    try:
        with os.scandir(day) as entries:
            found = list(entries)
    except OSError:
        return
    for entry in found:
        match = _ROLLOUT_NAME.match(entry.name)
        if match is None:
            continue
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        yield match.group(1).lower(), entry.path, mtime


def in_window(mtime: float, now: float, config: MemoriesConfig) -> bool:
    oldest = now - config.max_rollout_age_days * DAY_S
    newest = now - config.min_rollout_idle_hours * HOUR_S
    return oldest <= mtime <= newest


def eligible_sessions(
    store: MemoryStore,
    sessions: Path,
    config: MemoriesConfig,
    now: float,
    *,
    exclude: str | None = None,
    force: bool = False,
) -> list[Candidate]:
    """Sessions to mine, most recently written first. Sessions found to be ineligible for good
    are remembered in the store, so their files are not opened again."""
    skipped = store.skipped()
    jobs = store.stage1_jobs()
    candidates: list[Candidate] = []
    never: list[tuple[str, str]] = []
    for thread_id, path, mtime in rollout_files(sessions):
        if thread_id == exclude or thread_id in skipped or not in_window(mtime, now, config):
            continue
        if not needs_mining(jobs.get(thread_id), mtime, now, force=force):
            continue
        head = read_session_head(Path(path))
        if head is None:
            continue  # not readable now (being written, or damaged): looked at again next time
        reason = head.skip_reason
        if reason is not None:
            never.append((thread_id, reason))
            continue
        candidates.append(Candidate(thread_id, Path(path), mtime))
    store.skip(never)
    candidates.sort(key=lambda c: (-c.mtime, c.thread_id))
    return candidates


def read_session_head(path: Path) -> SessionHead | None:
    """The `session_meta` record on the first line of `path`; None when there is none."""
    try:
        with path.open("rb") as handle:
            line = handle.readline(MAX_HEAD_BYTES)
    except OSError:
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("type") != "session_meta":
        return None
    payload = record.get("payload")
    if not isinstance(payload, dict):
        return None
    thread_id = payload.get("id")
    if not isinstance(thread_id, str):
        return None
    git = payload.get("git")
    branch = git.get("branch") if isinstance(git, dict) else None
    mode = payload.get("memory_mode")
    return SessionHead(
        thread_id=thread_id,
        source=payload.get("source"),
        memory_mode=mode if isinstance(mode, str) else None,
        cwd=str(payload.get("cwd") or ""),
        started_at=str(payload.get("timestamp") or record.get("timestamp") or ""),
        git_branch=branch if isinstance(branch, str) else None,
    )
