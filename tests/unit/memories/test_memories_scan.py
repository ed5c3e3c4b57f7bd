"""Which session files are eligible: interactive, idle, recent, not mined, not disabled."""

from __future__ import annotations

import time
from pathlib import Path

from pycodex.config.memories import MemoriesConfig
from pycodex.memories.scan import eligible_sessions, read_session_head
from pycodex.memories.store import MemoryStore
from support.memories import write_session

CONFIG = MemoriesConfig(min_rollout_idle_hours=1, max_rollout_age_days=10)


def test_only_idle_recent_interactive_sessions_are_eligible(tmp_path: Path) -> None:
    home = tmp_path
    cli, _ = write_session(home, user="a", assistant="b", source="cli")
    vscode, _ = write_session(home, user="a", assistant="b", source="vscode", idle_hours=30)
    write_session(home, user="a", assistant="b", source="exec")
    write_session(home, user="a", assistant="b", source={"subagent": {"thread_spawn": {}}})
    write_session(home, user="a", assistant="b", source="cli", idle_hours=0.5)  # too recent
    write_session(home, user="a", assistant="b", source="cli", idle_hours=24 * 11)  # too old
    write_session(home, user="a", assistant="b", source="cli", memory_mode="disabled")
    current, _ = write_session(home, user="a", assistant="b", source="cli")
    store = MemoryStore.open(tmp_path / "m.sqlite")

    found = eligible_sessions(store, home / "sessions", CONFIG, time.time(), exclude=current)

    assert [c.thread_id for c in found] == [cli, vscode]  # most recently written first
    assert len(store.skipped()) == 3  # exec, sub-agent, disabled: never opened again


def test_a_session_dropped_in_later_is_picked_up(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "m.sqlite")
    sessions = tmp_path / "sessions"
    assert eligible_sessions(store, sessions, CONFIG, time.time()) == []
    late, _ = write_session(tmp_path, user="a", assistant="b")
    assert [c.thread_id for c in eligible_sessions(store, sessions, CONFIG, time.time())] == [late]


def test_damaged_or_foreign_files_are_skipped_quietly(tmp_path: Path) -> None:
    thread, path = write_session(tmp_path, user="a", assistant="b")
    mtime = path.stat().st_mtime
    path.write_text("not json\n")
    import os

    os.utime(path, (mtime, mtime))
    (path.parent / "notes.txt").write_text("x")
    store = MemoryStore.open(tmp_path / "m.sqlite")
    assert eligible_sessions(store, tmp_path / "sessions", CONFIG, time.time()) == []
    assert read_session_head(path) is None
    assert thread not in store.skipped()  # looked at again next time
