"""The public `exec --json` schema: one JSON object per line on stdout.

This is a frozen contract (CONTRACTS.md section 2) that SDKs and harnesses parse; field names,
order and casing match upstream `codex exec --json`. A snapshot test pins it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ExecUsage(_Frozen):
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int


class AgentMessageItem(_Frozen):
    id: str
    type: Literal["agent_message"] = "agent_message"
    text: str


class ReasoningItem(_Frozen):
    id: str
    type: Literal["reasoning"] = "reasoning"
    text: str


class CommandExecutionItem(_Frozen):
    id: str
    type: Literal["command_execution"] = "command_execution"
    command: str
    aggregated_output: str
    exit_code: int | None
    status: Literal["in_progress", "completed", "failed", "declined"]


class FileUpdateChange(_Frozen):
    path: str
    kind: Literal["add", "delete", "update"]


class FileChangeItem(_Frozen):
    id: str
    type: Literal["file_change"] = "file_change"
    changes: list[FileUpdateChange]
    status: Literal["in_progress", "completed", "failed"]


class McpToolCallItem(_Frozen):
    id: str
    type: Literal["mcp_tool_call"] = "mcp_tool_call"
    server: str
    tool: str
    arguments: Any
    result: Any
    error: Any
    status: Literal["in_progress", "completed", "failed"]


class WebSearchItem(_Frozen):
    id: str
    type: Literal["web_search"] = "web_search"
    query: str
    action: Any = None


class TodoEntry(_Frozen):
    text: str
    completed: bool


class TodoListItem(_Frozen):
    id: str
    type: Literal["todo_list"] = "todo_list"
    items: list[TodoEntry]


class ContextCompactionItem(_Frozen):
    """pycodex extension: the history was compacted (consumers may ignore unknown item types)."""

    id: str
    type: Literal["context_compaction"] = "context_compaction"
    phase: str
    tokens_before: int
    tokens_after: int
    items_kept: int
    items_pruned: int
    remote: bool


class ErrorItem(_Frozen):
    id: str
    type: Literal["error"] = "error"
    message: str


ThreadItem = (
    AgentMessageItem
    | ReasoningItem
    | CommandExecutionItem
    | FileChangeItem
    | McpToolCallItem
    | WebSearchItem
    | TodoListItem
    | ContextCompactionItem
    | ErrorItem
)


class ThreadStarted(_Frozen):
    type: Literal["thread.started"] = "thread.started"
    thread_id: str


class TurnStarted(_Frozen):
    type: Literal["turn.started"] = "turn.started"


class ItemStarted(_Frozen):
    type: Literal["item.started"] = "item.started"
    item: ThreadItem


class ItemUpdated(_Frozen):
    type: Literal["item.updated"] = "item.updated"
    item: ThreadItem


class ItemCompleted(_Frozen):
    type: Literal["item.completed"] = "item.completed"
    item: ThreadItem


class TurnCompleted(_Frozen):
    type: Literal["turn.completed"] = "turn.completed"
    usage: ExecUsage


class TurnError(_Frozen):
    message: str


class TurnFailed(_Frozen):
    type: Literal["turn.failed"] = "turn.failed"
    error: TurnError


class ThreadError(_Frozen):
    type: Literal["error"] = "error"
    message: str


ThreadEvent = (
    ThreadStarted
    | TurnStarted
    | ItemStarted
    | ItemUpdated
    | ItemCompleted
    | TurnCompleted
    | TurnFailed
    | ThreadError
)


def to_json_line(event: ThreadEvent) -> str:
    """Serialize one event as compact JSON (no trailing newline)."""
    return event.model_dump_json()
