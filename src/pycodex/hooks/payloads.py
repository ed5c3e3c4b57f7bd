"""The JSON object each event's handlers read on stdin (snake_case keys, upstream's order)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.hooks.events import HookEventName


@dataclass(frozen=True)
class HookContext:
    """Who is asking: the thread's session, files and settings at the time of the event."""

    session_id: str
    cwd: Path
    model: str
    # "bypassPermissions" under approval `never`, else "default" (upstream's mapping).
    permission_mode: str
    transcript_path: Path | None = None
    # Set inside a sub-agent: its thread id and role ("default" without one).
    agent_id: str | None = None
    agent_type: str | None = None


def permission_mode(approval_policy: str) -> str:
    return "bypassPermissions" if approval_policy == "never" else "default"


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _path(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def turn_payload(
    context: HookContext, event: HookEventName, turn_id: str, *, agent_fields: bool = True
) -> dict[str, Any]:
    """The fields every turn-scoped event starts with."""
    payload: dict[str, Any] = {"session_id": context.session_id, "turn_id": turn_id}
    if agent_fields and context.agent_id is not None:
        payload["agent_id"] = context.agent_id
        payload["agent_type"] = context.agent_type or "default"
    payload |= {
        "transcript_path": _path(context.transcript_path),
        "cwd": str(context.cwd),
        "hook_event_name": event,
        "model": context.model,
    }
    return payload


def session_start(context: HookContext, source: str) -> dict[str, Any]:
    return {
        "session_id": context.session_id,
        "transcript_path": _path(context.transcript_path),
        "cwd": str(context.cwd),
        "hook_event_name": "SessionStart",
        "model": context.model,
        "permission_mode": context.permission_mode,
        "source": source,
    }


def subagent_start(context: HookContext, turn_id: str) -> dict[str, Any]:
    payload = turn_payload(context, "SubagentStart", turn_id, agent_fields=False)
    return payload | {
        "permission_mode": context.permission_mode,
        "agent_id": context.agent_id or "",
        "agent_type": context.agent_type or "default",
    }


def user_prompt_submit(context: HookContext, turn_id: str, prompt: str) -> dict[str, Any]:
    payload = turn_payload(context, "UserPromptSubmit", turn_id)
    return payload | {"permission_mode": context.permission_mode, "prompt": prompt}


def tool_use(
    context: HookContext,
    event: HookEventName,
    turn_id: str,
    *,
    tool_name: str,
    tool_input: Any,
    tool_use_id: str | None,
    tool_response: Any = None,
) -> dict[str, Any]:
    """PreToolUse, PostToolUse (with `tool_response`) and PermissionRequest (no id)."""
    payload = turn_payload(context, event, turn_id)
    payload |= {
        "permission_mode": context.permission_mode,
        "tool_name": tool_name,
        "tool_input": tool_input,
    }
    if event == "PostToolUse":
        payload["tool_response"] = tool_response
    if tool_use_id is not None:
        payload["tool_use_id"] = tool_use_id
    return payload


def stop(
    context: HookContext, turn_id: str, *, active: bool, last_message: str | None
) -> dict[str, Any]:
    payload = turn_payload(context, "Stop", turn_id, agent_fields=False)
    return payload | {
        "permission_mode": context.permission_mode,
        "stop_hook_active": active,
        "last_assistant_message": last_message,
    }


def subagent_stop(
    context: HookContext,
    turn_id: str,
    *,
    parent_transcript: Path | None,
    active: bool,
    last_message: str | None,
) -> dict[str, Any]:
    return {
        "session_id": context.session_id,
        "turn_id": turn_id,
        "transcript_path": _path(parent_transcript),
        "agent_transcript_path": _path(context.transcript_path),
        "cwd": str(context.cwd),
        "hook_event_name": "SubagentStop",
        "model": context.model,
        "permission_mode": context.permission_mode,
        "stop_hook_active": active,
        "agent_id": context.agent_id or "",
        "agent_type": context.agent_type or "default",
        "last_assistant_message": last_message,
    }


def compaction(
    context: HookContext, event: HookEventName, turn_id: str, trigger: str
) -> dict[str, Any]:
    """PreCompact and PostCompact: no permission mode."""
    return turn_payload(context, event, turn_id) | {"trigger": trigger}


def session_end(context: HookContext, reason: str) -> dict[str, Any]:
    return {
        "session_id": context.session_id,
        "transcript_path": _path(context.transcript_path),
        "cwd": str(context.cwd),
        "hook_event_name": "SessionEnd",
        "reason": reason,
    }
