"""The JSON shapes the protocol carries: threads, turns, items, token usage, policies.

Field names are the protocol's camelCase ones (docs/app-server.md lists them); every builder here
returns plain JSON for the transport. The records (`ThreadMeta`, `TurnRecord`) are what the rest
of the package keeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pycodex._records import dataclass, field
from pycodex.protocol import events as ev
from pycodex.protocol.agents import AgentStatus
from pycodex.protocol.policies import SandboxMode, SandboxPolicy
from pycodex.protocol.usage import TokenUsage

TurnStatus = Literal["inProgress", "completed", "interrupted", "failed"]
Json = dict[str, Any]

IDLE: Json = {"type": "idle"}
NOT_LOADED: Json = {"type": "notLoaded"}


def active(flags: list[str] | None = None) -> Json:
    return {"type": "active", "activeFlags": flags or []}


@dataclass
class ThreadMeta:
    """What the protocol's Thread says about a thread, live or recorded."""

    id: str
    session_id: str
    cwd: str
    created_at: int
    updated_at: int
    model_provider: str
    preview: str = ""
    source: Any = "vscode"
    cli_version: str = ""
    path: str | None = None
    ephemeral: bool = False
    model: str | None = None
    reasoning_effort: str | None = None
    originator: str | None = None
    name: str | None = None
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None


@dataclass
class TurnRecord:
    """One turn: its items (protocol JSON) in the order they completed."""

    id: str
    status: TurnStatus = "inProgress"
    items: list[Json] = field(default_factory=list)
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    error: Json | None = None


def thread_json(meta: ThreadMeta, status: Json, turns: list[Json] | None = None) -> Json:
    return {
        "id": meta.id,
        "sessionId": meta.session_id,
        "forkedFromId": meta.forked_from_id,
        "parentThreadId": meta.parent_thread_id,
        "preview": meta.preview,
        "ephemeral": meta.ephemeral,
        "modelProvider": meta.model_provider,
        "model": meta.model,
        "reasoningEffort": meta.reasoning_effort,
        "createdAt": meta.created_at,
        "updatedAt": meta.updated_at,
        "recencyAt": meta.updated_at,
        "status": status,
        "path": meta.path,
        "cwd": meta.cwd,
        "cliVersion": meta.cli_version,
        "source": session_source(meta.source),
        "originator": meta.originator,
        "agentNickname": meta.agent_nickname,
        "agentRole": meta.agent_role,
        "gitInfo": None,
        "name": meta.name,
        "turns": turns or [],
    }


def session_source(recorded: Any) -> Any:
    """A session_meta `source` in the protocol's form."""
    if recorded in ("cli", "vscode", "exec", "unknown"):
        return recorded
    if recorded in ("app_server", "appServer", "mcp"):
        return "appServer"
    if isinstance(recorded, dict) and isinstance(recorded.get("subagent"), dict | str):
        return {"subAgent": recorded["subagent"]}
    if isinstance(recorded, str) and recorded:
        return {"custom": recorded}
    return "unknown"


def turn_json(turn: TurnRecord, *, items: Literal["full", "summary", "none"] = "full") -> Json:
    """A turn; `summary` keeps only the agent messages, `none` sends no items at all."""
    if items == "full":
        shown, view = turn.items, "full"
    elif items == "summary":
        shown, view = [i for i in turn.items if i.get("type") == "agentMessage"], "summary"
    else:
        shown, view = [], "notLoaded"
    return {
        "id": turn.id,
        "items": shown,
        "itemsView": view,
        "status": turn.status,
        "error": turn.error,
        "rootTurnId": turn.id,
        "startedAt": turn.started_at,
        "completedAt": turn.completed_at,
        "durationMs": turn.duration_ms,
    }


def turn_error(message: str, info: Any = None, details: str | None = None) -> Json:
    return {"message": message, "codexErrorInfo": info, "additionalDetails": details}


def error_info(kind: ev.ErrorKind, http_status: int | None) -> Any:
    """An engine error kind as the protocol's `codexErrorInfo`."""
    match kind:
        case "context_window_exceeded":
            return "contextWindowExceeded"
        case "usage_limit_exceeded":
            return "usageLimitExceeded"
        case "unauthorized":
            return "unauthorized"
        case "bad_request":
            return "badRequest"
        case "rate_limit_exceeded":
            return "rateLimitExceeded"
        case "retry_limit":
            return {"responseTooManyFailedAttempts": {"httpStatusCode": http_status}}
        case "internal_server_error":
            return "internalServerError"
        case "stream_disconnected":
            return {"responseStreamDisconnected": {"httpStatusCode": http_status}}
        case "other":
            return "other"


def usage_breakdown(usage: TokenUsage) -> Json:
    return {
        "totalTokens": usage.total_tokens,
        "inputTokens": usage.input_tokens,
        "cachedInputTokens": usage.cached_input_tokens,
        "cacheWriteInputTokens": 0,
        "outputTokens": usage.output_tokens,
        "reasoningOutputTokens": usage.reasoning_output_tokens,
    }


def sandbox_json(policy: SandboxPolicy) -> Json:
    """A sandbox policy as responses report it (`sandbox`)."""
    if policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        return {"type": "dangerFullAccess"}
    if policy.mode is SandboxMode.READ_ONLY:
        return {"type": "readOnly", "networkAccess": policy.network_access}
    return {
        "type": "workspaceWrite",
        "writableRoots": [str(root) for root in policy.writable_roots],
        "networkAccess": policy.network_access,
        "excludeTmpdirEnvVar": policy.exclude_tmpdir_env_var,
        "excludeSlashTmp": policy.exclude_slash_tmp,
    }


# --- items ---------------------------------------------------------------------------------


def user_message_item(item_id: str, content: list[Json]) -> Json:
    return {"type": "userMessage", "id": item_id, "content": content}


def text_input(text: str) -> Json:
    return {"type": "text", "text": text, "text_elements": []}


def agent_message_item(item_id: str, text: str) -> Json:
    return {"type": "agentMessage", "id": item_id, "text": text, "phase": None}


def reasoning_item(item_id: str, summary: list[str], content: list[str] | None = None) -> Json:
    return {"type": "reasoning", "id": item_id, "summary": summary, "content": content or []}


def command_item(
    call_id: str,
    command: str,
    cwd: Path | str,
    *,
    status: str = "inProgress",
    output: str | None = None,
    exit_code: int | None = None,
    duration_ms: int | None = None,
) -> Json:
    return {
        "type": "commandExecution",
        "id": call_id,
        "command": command,
        "cwd": str(cwd),
        "processId": None,
        "source": "agent",
        "status": status,
        "commandActions": [{"type": "unknown", "command": command}],
        "aggregatedOutput": output,
        "exitCode": exit_code,
        "durationMs": duration_ms,
    }


def command_status(event: ev.ExecCommandEnd) -> str:
    """completed only for exit code 0, as upstream reports a non-zero exit as failed."""
    if event.status == "completed" and event.exit_code not in (0, None):
        return "failed"
    return event.status


def file_change_item(call_id: str, changes: tuple[ev.FileChange, ...], status: str) -> Json:
    return {
        "type": "fileChange",
        "id": call_id,
        "changes": [
            {"path": change.path, "kind": {"type": change.kind}, "diff": change.unified_diff}
            for change in changes
        ],
        "status": status,
    }


def web_search_item(call_id: str, query: str, action: dict[str, Any] | None) -> Json:
    return {"type": "webSearch", "id": call_id, "query": query, "action": action}


def mcp_tool_call_item(event: ev.McpToolCallBegin | ev.McpToolCallEnd) -> Json:
    """A call to an MCP server's tool: `inProgress` from its begin event; from its end event
    `completed`, or `failed` (an `isError` result keeps its `result`; a call that got no result
    has an `error`)."""
    item: Json = {
        "type": "mcpToolCall",
        "id": event.call_id,
        "server": event.server,
        "tool": event.tool,
        "status": "inProgress",
        "arguments": event.arguments,
        "result": None,
        "error": None,
        "durationMs": None,
    }
    if isinstance(event, ev.McpToolCallEnd):
        item["status"] = "completed" if event.success else "failed"
        if event.result is not None:
            item["result"] = {
                "content": event.result.get("content", []),
                "structuredContent": event.result.get("structured_content"),
                "_meta": None,
            }
        if event.error is not None:
            item["error"] = {"message": event.error}
        item["durationMs"] = int(event.duration_s * 1000)
    return item


_COLLAB_TOOLS = {
    "spawn_agent": "spawnAgent",
    "send_input": "sendInput",
    "wait": "wait",
    "close_agent": "closeAgent",
}
_AGENT_STATES = {
    "pending_init": "pendingInit",
    "running": "running",
    "interrupted": "interrupted",
    "completed": "completed",
    "errored": "errored",
    "shutdown": "shutdown",
    "not_found": "notFound",
}


def collab_item(event: ev.CollabToolCallBegin | ev.CollabToolCallEnd, status: str) -> Json:
    states: dict[str, Json] = {}
    if isinstance(event, ev.CollabToolCallEnd):
        states = {agent: _agent_state(state) for agent, state in event.agents_states}
    end = event if isinstance(event, ev.CollabToolCallEnd) else None
    return {
        "type": "collabAgentToolCall",
        "id": event.call_id,
        "tool": _COLLAB_TOOLS[event.tool],
        "status": status,
        "senderThreadId": event.sender_thread_id,
        "receiverThreadIds": list(event.receiver_thread_ids),
        "prompt": event.prompt,
        "model": end.model if end is not None else None,
        "reasoningEffort": end.reasoning_effort if end is not None else None,
        "agentsStates": states,
    }


def _agent_state(status: AgentStatus) -> Json:
    return {"status": _AGENT_STATES[status.state], "message": status.message}


def compaction_item(item_id: str) -> Json:
    return {"type": "contextCompaction", "id": item_id}
