"""A recorded thread read back for the protocol: its Thread fields and its turns with items.

One linear pass over the rollout's lines (a line that does not parse is skipped): `task_started`
opens a turn, `task_complete` / `turn_aborted` close it, and the records in between become
items: the user's messages (`user_message` events), the assistant's messages and reasoning
(response items, with their ids), shell calls with their outputs (`commandExecution`, the call id
as item id), patches (`fileChange`), web searches and compactions. A turn the file leaves open
(the process died during it) reads as interrupted.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from pycodex._records import dataclass, field
from pycodex.frontends.app_server import wire
from pycodex.frontends.app_server.wire import Json, ThreadMeta, TurnRecord
from pycodex.sessions.paths import parse_timestamp

SHELL_TOOLS = ("exec_command", "shell", "shell_command")
_EXIT_CODE = re.compile(r"(?:Process exited with code|Exit code:) (-?\d+)")
_PATCH_FILE = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$", re.MULTILINE)
_KINDS = {"Add": "add", "Update": "update", "Delete": "delete"}


@dataclass
class RecordedView:
    meta: ThreadMeta
    turns: list[TurnRecord] = field(default_factory=list)


def read_recorded(path: Path, name: str | None = None) -> RecordedView:
    """Raises OSError when the file cannot be read."""
    fold = _Fold(path)
    with path.open("rb") as handle:
        for raw in handle:
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("payload"), dict):
                fold.add(record)
    fold.finish()
    fold.meta.name = name
    return RecordedView(fold.meta, fold.turns)


def epoch_seconds(stamp: Any) -> int | None:
    parsed = parse_timestamp(stamp) if isinstance(stamp, str) else None
    return int(parsed.timestamp()) if parsed is not None else None


class _Fold:
    def __init__(self, path: Path) -> None:
        updated = int(path.stat().st_mtime)
        self.meta = ThreadMeta(
            id="", session_id="", cwd="", created_at=updated, updated_at=updated,
            model_provider="", path=str(path),
        )  # fmt: skip
        self.turns: list[TurnRecord] = []
        self.turn: TurnRecord | None = None
        self.calls: dict[str, Json] = {}

    def add(self, record: dict[str, Any]) -> None:
        payload: dict[str, Any] = record["payload"]
        stamp = epoch_seconds(record.get("timestamp"))
        match record.get("type"):
            case "session_meta" if not self.meta.id:
                self._meta(payload)
            case "turn_context":
                self.meta.model = _str(payload.get("model")) or self.meta.model
                self.meta.reasoning_effort = _str(payload.get("effort"))
            case "event_msg":
                self._event(payload, stamp)
            case "response_item":
                self._response_item(payload)
            case "compacted":
                self._item(wire.compaction_item(f"compaction-{len(self.turns)}"))
            case _:
                pass

    def _meta(self, payload: dict[str, Any]) -> None:
        meta = self.meta
        meta.id = _str(payload.get("id")) or ""
        meta.session_id = _str(payload.get("session_id")) or meta.id
        meta.cwd = _str(payload.get("cwd")) or ""
        meta.created_at = epoch_seconds(payload.get("timestamp")) or meta.created_at
        meta.model_provider = _str(payload.get("model_provider")) or ""
        meta.cli_version = _str(payload.get("cli_version")) or ""
        meta.originator = _str(payload.get("originator"))
        meta.source = payload.get("source")
        meta.forked_from_id = _str(payload.get("forked_from"))
        meta.parent_thread_id = _str(payload.get("parent_thread_id"))
        meta.agent_nickname = _str(payload.get("agent_nickname"))

    def _event(self, payload: dict[str, Any], stamp: int | None) -> None:
        match payload.get("type"):
            case "task_started":
                self._close_turn("interrupted", stamp)
                turn_id = _str(payload.get("turn_id")) or f"turn-{len(self.turns)}"
                self.turn = TurnRecord(turn_id, started_at=stamp)
                self.turns.append(self.turn)
            case "user_message":
                text = _str(payload.get("message")) or ""
                if not self.meta.preview:
                    self.meta.preview = text
                if self.turn is None:  # files older than task_started: one turn per message
                    self.turn = TurnRecord(f"turn-{len(self.turns)}", started_at=stamp)
                    self.turns.append(self.turn)
                item_id = f"{self.turn.id}-user-{len(self.turn.items)}"
                self._item(wire.user_message_item(item_id, [wire.text_input(text)]))
            case "task_complete":
                error = _str(payload.get("error"))
                if error is not None and self.turn is not None:
                    self.turn.error = wire.turn_error(error)
                self._close_turn("failed" if error else "completed", stamp)
            case "turn_aborted":
                self._close_turn("interrupted", stamp)
            case _:
                pass

    def _response_item(self, item: dict[str, Any]) -> None:
        kind, item_id = item.get("type"), _str(item.get("id"))
        call_id = _str(item.get("call_id")) or ""
        if kind == "message" and item.get("role") == "assistant":
            text = "".join(_texts(item.get("content"), "output_text"))
            self._item(wire.agent_message_item(item_id or self._next_id("msg"), text))
        elif kind == "reasoning":
            summary = list(_texts(item.get("summary"), "summary_text"))
            if summary:
                self._item(wire.reasoning_item(item_id or self._next_id("rs"), summary))
        elif kind == "function_call" and item.get("name") in SHELL_TOOLS:
            self.calls[call_id] = wire.command_item(call_id, _command(item), self.meta.cwd)
        elif kind == "custom_tool_call" and item.get("name") == "apply_patch":
            self.calls[call_id] = _patch_item(call_id, _str(item.get("input")) or "")
        elif kind in ("function_call_output", "custom_tool_call_output"):
            started = self.calls.pop(call_id, None)
            if started is not None:
                self._item(_finished(started, item.get("output")))
        elif kind == "web_search_call":
            action = item.get("action") if isinstance(item.get("action"), dict) else None
            query = _str((action or {}).get("query")) or ""
            self._item(wire.web_search_item(item_id or self._next_id("ws"), query, action))

    def _item(self, item: Json) -> None:
        if self.turn is not None:
            self.turn.items.append(item)

    def _next_id(self, prefix: str) -> str:
        count = sum(len(turn.items) for turn in self.turns)
        return f"{prefix}-{len(self.turns)}-{count}"

    def _close_turn(self, status: wire.TurnStatus, stamp: int | None) -> None:
        if self.turn is None:
            return
        self.turn.status = status
        self.turn.completed_at = stamp
        if stamp is not None and self.turn.started_at is not None:
            self.turn.duration_ms = (stamp - self.turn.started_at) * 1000
        self.turn = None
        self.calls.clear()

    def finish(self) -> None:
        self._close_turn("interrupted", None)


def _texts(parts: Any, kind: str) -> list[str]:
    found = []
    for part in parts if isinstance(parts, list) else []:
        if (
            isinstance(part, dict)
            and part.get("type") == kind
            and isinstance(part.get("text"), str)
        ):
            found.append(part["text"])
    return found


def _command(call: dict[str, Any]) -> str:
    try:
        args = json.loads(call.get("arguments") or "{}")
    except ValueError:
        return str(call.get("arguments"))
    if not isinstance(args, dict):
        return str(args)
    command = args.get("cmd", args.get("command"))
    if isinstance(command, list):
        return shlex.join(str(part) for part in command)
    if call.get("name") == "exec_command" and isinstance(command, str):
        shell = args.get("shell")
        program = shell if isinstance(shell, str) else "/bin/bash"
        return shlex.join([program, "-c" if args.get("login") is False else "-lc", command])
    return str(command)


def _patch_item(call_id: str, patch: str) -> Json:
    changes = [
        {"path": path.strip(), "kind": {"type": _KINDS[verb]}, "diff": ""}
        for verb, path in _PATCH_FILE.findall(patch)
    ]
    return {"type": "fileChange", "id": call_id, "changes": changes, "status": "inProgress"}


def _finished(started: Json, output: Any) -> Json:
    text = output if isinstance(output, str) else json.dumps(output)
    match = _EXIT_CODE.search(text)
    exit_code = int(match.group(1)) if match else None
    status = "completed" if exit_code in (0, None) and match else "failed"
    if started["type"] == "fileChange":
        return {**started, "status": status}
    _, _, shown = text.partition("Output:\n")
    return {**started, "status": status, "exitCode": exit_code, "aggregatedOutput": shown}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
