"""The memory tests' helpers: past sessions as real rollout files (backdated), the scripted
stage-one answers and consolidation agent, and the waits a detached worker needs."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pycodex.sessions.ids import new_thread_id
from pycodex.sessions.paths import format_timestamp, rollout_path

from . import sse_builders as sse
from .cli import CliResult, run_cli, write_config
from .fake_server import FakeModelServer, RecordedRequest, body_contains

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


AGENT = body_contains("You maintain a memory folder")


SUMMARY = """v1
## User Profile
Works on a Python parser (ELIGIBLE-TASK).
## User preferences
- Wants small commits.
## General Tips
- Run `make test` before committing.
## What's in Memory
- rollout_summaries/: the parser fix.
"""


def memories_home(tmp_path: Path, server: FakeModelServer, extra: str = "") -> Path:
    home = tmp_path / "codex-home"
    write_config(home, server, extra=MEMORY_CONFIG + extra, features={"memories": True})
    return home


def add_file_patch(path: str, text: str) -> str:
    body = "".join(f"+{line}\n" for line in text.splitlines())
    return f"*** Begin Patch\n*** Add File: {path}\n{body}*** End Patch"


def exec_call(cmd: str, call_id: str) -> list[dict[str, Any]]:
    return sse.tool_calls(
        sse.function_call("exec_command", json.dumps({"cmd": cmd}), call_id=call_id)
    )


def patch_call(patch: str, call_id: str) -> list[dict[str, Any]]:
    return sse.tool_calls(sse.custom_tool_call("apply_patch", patch, call_id=call_id))


def stage_one_reply(summary: str, slug: str) -> list[dict[str, Any]]:
    answer = {"rollout_summary": summary, "rollout_slug": slug}
    return sse.assistant_reply(json.dumps(answer))


def is_stage_one(request: RecordedRequest) -> bool:
    text = request.json().get("text") or {}
    return "rollout_summary" in json.dumps(text.get("format") or {})


def is_agent(request: RecordedRequest) -> bool:
    return request.headers.get("x-openai-subagent") == "memory_consolidation"


def tool_output(request: RecordedRequest, call_id: str) -> str:
    for item in request.json()["input"]:
        if item.get("call_id") == call_id and item["type"].endswith("_output"):
            output = item["output"]
            return output if isinstance(output, str) else json.dumps(output)
    raise AssertionError(f"no output for {call_id}")


def update(home: Path, work: Path) -> CliResult:
    return run_cli(["memories", "update"], codex_home=home, cwd=work, timeout=120)


def git_out(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def short_agent(server: FakeModelServer, summary: str = SUMMARY) -> None:
    """A consolidation agent that writes `summary` at once and answers."""
    patch = add_file_patch("memory_summary.md", summary)
    server.expect_sse("/v1/responses", patch_call(patch, "w1"), when=AGENT)
    server.expect_sse("/v1/responses", sse.assistant_reply("Written."), when=AGENT)


def consolidation_job(home: Path) -> tuple[str, float | None, str | None]:
    with sqlite3.connect(home / "memories_v2.sqlite") as db:
        row = db.execute(
            "SELECT status, retry_at, last_error FROM jobs WHERE kind = 'memory_consolidate_global'"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def write_summary(home: Path, text: str = SUMMARY) -> None:
    root = home / "memories_v2"
    root.mkdir(parents=True, exist_ok=True)
    (root / "memory_summary.md").write_text(text, encoding="utf-8")


def first_input(server: FakeModelServer) -> list[dict[str, Any]]:
    return server.requests[-1].json()["input"]


def has_memory(items: list[dict[str, Any]]) -> bool:
    return "MEMORY_SUMMARY BEGINS" in json.dumps(items)


def lock_is_free(home: Path) -> bool:
    fd = os.open(home / "memories_v2.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
