"""Thread names: `$CODEX_HOME/session_index.jsonl`, one appended line per rename.

Each line is `{"id": <thread id>, "thread_name": <name>, "updated_at": <ISO-8601>}`, the file
upstream Codex keeps; the last line for an id wins. Appending keeps renames cheap and crash-safe
(a torn last line is skipped when reading).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from pycodex.sessions.paths import format_timestamp

INDEX_FILE = "session_index.jsonl"


def set_thread_name(codex_home: Path, thread_id: str, name: str) -> None:
    """Record `name` for `thread_id` (one line, written whole with O_APPEND)."""
    line = {"id": thread_id, "thread_name": name, "updated_at": format_timestamp(datetime.now(UTC))}
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    codex_home.mkdir(parents=True, exist_ok=True)
    fd = os.open(codex_home / INDEX_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def thread_names(codex_home: Path) -> dict[str, str]:
    """Every named thread's current name; an unreadable index means no names."""
    try:
        raw = (codex_home / INDEX_FILE).read_bytes()
    except OSError:
        return {}
    names: dict[str, str] = {}
    for line in raw.split(b"\n"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        thread_id, name = record.get("id"), record.get("thread_name")
        if isinstance(thread_id, str) and isinstance(name, str):
            names[thread_id] = name
    return names
