"""Past sessions for the memory tests: real rollout files, backdated, and the waits they need."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pycodex.sessions.ids import new_thread_id
from pycodex.sessions.paths import format_timestamp, rollout_path

MEMORY_CONFIG = "\n[memories]\nmin_rollout_idle_hours = 1\n"


def write_session(
    home: Path,
    *,
    user: str,
    assistant: str,
    source: Any = "cli",
    idle_hours: float = 3.0,
    memory_mode: str | None = None,
    cwd: str = "/home/user/project",
    extra_items: tuple[dict[str, Any], ...] = (),
) -> tuple[str, Path]:
    """A finished session whose file was last written `idle_hours` ago; (thread id, path)."""
    thread_id = new_thread_id()
    started = datetime.now(UTC) - timedelta(hours=idle_hours, minutes=5)
    path = rollout_path(home, thread_id, started)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "id": thread_id,
        "session_id": thread_id,
        "timestamp": format_timestamp(started),
        "cwd": cwd,
        "originator": "pycodex_cli",
        "cli_version": "0.0.0",
        "source": source,
        "model_provider": "fake",
        "git": {"branch": "main"},
    }
    if memory_mode is not None:
        meta["memory_mode"] = memory_mode
    items = [
        _message("developer", "input_text", "<permissions instructions>sandboxed</permissions>"),
        _message(
            "user", "input_text", f"<environment_context><cwd>{cwd}</cwd></environment_context>"
        ),
        _message("user", "input_text", user),
        *extra_items,
        _message("assistant", "output_text", assistant),
    ]
    stamp = format_timestamp(started)
    lines = [{"timestamp": stamp, "type": "session_meta", "payload": meta}]
    lines += [{"timestamp": stamp, "type": "response_item", "payload": item} for item in items]
    lines.append({"timestamp": stamp, "type": "event_msg", "payload": {"type": "task_complete"}})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    moment = time.time() - idle_hours * 3600
    os.utime(path, (moment, moment))
    return thread_id, path


def _message(role: str, kind: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}


def wait_for_pipeline(home: Path, timeout_s: float = 60.0) -> None:
    """Block until no process holds `memories_v2.lock` (a detached worker finished)."""
    path = home / "memories_v2.lock"
    done = threading.Event()

    def take() -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            done.set()
        finally:
            os.close(fd)

    waiter = threading.Thread(target=take, daemon=True)
    waiter.start()
    if not done.wait(timeout_s):
        raise AssertionError(f"the memory pipeline still holds {path} after {timeout_s}s")
