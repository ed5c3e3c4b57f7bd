"""The public `exec --json` schema: one JSON object per line on stdout.

This is a frozen contract (CONTRACTS.md section 2) that SDKs and harnesses parse; field names,
order and casing match upstream `codex exec --json`. A snapshot test pins it.

`to_json()` writes every field in `_FIELDS` order, None as `null`, compactly, with non-ASCII
characters as they are and floats the way pydantic wrote them (`1e-7`, `1e+16`; null for NaN and
infinities), so the lines are byte for byte what the earlier pydantic models produced. The classes
are plain frozen `__slots__` classes (see `_frozen` for why not pydantic); only
`ExecJsonlProcessor` builds them, so their field types are checked statically, not at run time.
`replace(**changes)` makes a changed copy.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal, Self

from pycodex.protocol._frozen import Frozen, set_field

_STRING_ENCODER = json.JSONEncoder(ensure_ascii=False)


class ExecRecord(Frozen):
    """Base of every event and item of the schema."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """This object as JSON data, fields in contract order."""
        return {name: _json_value(getattr(self, name)) for name in self._FIELDS}

    def to_json(self) -> str:
        """This object as one compact JSON line (no trailing newline)."""
        return _json_text(self)

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed, e.g. `item.replace(status="failed")`."""
        values = {name: getattr(self, name) for name in self._FIELDS if name != "type"}
        unknown = changes.keys() - values.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)


def _json_value(value: Any) -> Any:
    if isinstance(value, ExecRecord):
        return value.to_dict()
    if isinstance(value, list):
        return [_json_value(entry) for entry in value]
    if isinstance(value, dict):
        return {key: _json_value(entry) for key, entry in value.items()}
    return value


def _json_text(value: Any) -> str:
    """Compact JSON, as pydantic's `model_dump_json` wrote it (see the module docstring)."""
    if isinstance(value, str):
        return _STRING_ENCODER.encode(value)
    if value is None or value is True or value is False:
        return "null" if value is None else "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json_text(entry) for entry in value) + "]"
    if isinstance(value, ExecRecord):
        pairs = [(name, getattr(value, name)) for name in value._FIELDS]
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return "{" + ",".join(f"{_key_text(key)}:{_json_text(entry)}" for key, entry in pairs) + "}"


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        key = "true" if key else "false"
    return _STRING_ENCODER.encode(key if isinstance(key, str) else str(key))


def _float_text(value: float) -> str:
    """Shortest round-trip digits like `repr`, in the notation of serde_json (pydantic's writer)."""
    if not math.isfinite(value):
        return "null"
    text = float.__repr__(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = int(exponent)
    if power == -5:  # serde_json writes 1e-5 <= |x| < 1e-4 positionally, Python with an exponent
        digits = mantissa.replace(".", "").lstrip("-")
        return f"{'-' if value < 0 else ''}0.0000{digits}"
    return f"{mantissa}e{power:+d}"


class ExecUsage(ExecRecord):
    __slots__ = (
        "cache_write_input_tokens",
        "cached_input_tokens",
        "input_tokens",
        "output_tokens",
        "reasoning_output_tokens",
    )
    _FIELDS = (
        "input_tokens",
        "cached_input_tokens",
        "cache_write_input_tokens",
        "output_tokens",
        "reasoning_output_tokens",
    )
    input_tokens: int
    cached_input_tokens: int
    cache_write_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int

    def __init__(
        self,
        *,
        input_tokens: int,
        cached_input_tokens: int,
        output_tokens: int,
        cache_write_input_tokens: int = 0,
        reasoning_output_tokens: int = 0,
    ) -> None:
        set_field(self, "input_tokens", input_tokens)
        set_field(self, "cached_input_tokens", cached_input_tokens)
        set_field(self, "cache_write_input_tokens", cache_write_input_tokens)
        set_field(self, "output_tokens", output_tokens)
        set_field(self, "reasoning_output_tokens", reasoning_output_tokens)


# --- items -----------------------------------------------------------------------------------


class AgentMessageItem(ExecRecord):
    __slots__ = ("id", "text")
    _FIELDS = ("id", "type", "text")
    type: Literal["agent_message"] = "agent_message"
    id: str
    text: str

    def __init__(self, *, id: str, text: str) -> None:
        set_field(self, "id", id)
        set_field(self, "text", text)


class ReasoningItem(ExecRecord):
    __slots__ = ("id", "text")
    _FIELDS = ("id", "type", "text")
    type: Literal["reasoning"] = "reasoning"
    id: str
    text: str

    def __init__(self, *, id: str, text: str) -> None:
        set_field(self, "id", id)
        set_field(self, "text", text)


class CommandExecutionItem(ExecRecord):
    __slots__ = ("aggregated_output", "command", "exit_code", "id", "status")
    _FIELDS = ("id", "type", "command", "aggregated_output", "exit_code", "status")
    type: Literal["command_execution"] = "command_execution"
    id: str
    command: str
    aggregated_output: str
    exit_code: int | None
    status: Literal["in_progress", "completed", "failed", "declined"]

    def __init__(
        self,
        *,
        id: str,
        command: str,
        aggregated_output: str,
        exit_code: int | None,
        status: Literal["in_progress", "completed", "failed", "declined"],
    ) -> None:
        set_field(self, "id", id)
        set_field(self, "command", command)
        set_field(self, "aggregated_output", aggregated_output)
        set_field(self, "exit_code", exit_code)
        set_field(self, "status", status)


class FileUpdateChange(ExecRecord):
    __slots__ = ("kind", "path")
    _FIELDS = ("path", "kind")
    path: str
    kind: Literal["add", "delete", "update"]

    def __init__(self, *, path: str, kind: Literal["add", "delete", "update"]) -> None:
        set_field(self, "path", path)
        set_field(self, "kind", kind)


class FileChangeItem(ExecRecord):
    __slots__ = ("changes", "id", "status")
    _FIELDS = ("id", "type", "changes", "status")
    type: Literal["file_change"] = "file_change"
    id: str
    changes: list[FileUpdateChange]
    status: Literal["in_progress", "completed", "failed"]

    def __init__(
        self,
        *,
        id: str,
        changes: list[FileUpdateChange],
        status: Literal["in_progress", "completed", "failed"],
    ) -> None:
        set_field(self, "id", id)
        set_field(self, "changes", changes)
        set_field(self, "status", status)


class McpToolCallItem(ExecRecord):
    __slots__ = ("arguments", "error", "id", "result", "server", "status", "tool")
    _FIELDS = ("id", "type", "server", "tool", "arguments", "result", "error", "status")
    type: Literal["mcp_tool_call"] = "mcp_tool_call"
    id: str
    server: str
    tool: str
    arguments: Any
    result: Any
    error: Any
    status: Literal["in_progress", "completed", "failed"]

    def __init__(
        self,
        *,
        id: str,
        server: str,
        tool: str,
        arguments: Any,
        result: Any,
        error: Any,
        status: Literal["in_progress", "completed", "failed"],
    ) -> None:
        set_field(self, "id", id)
        set_field(self, "server", server)
        set_field(self, "tool", tool)
        set_field(self, "arguments", arguments)
        set_field(self, "result", result)
        set_field(self, "error", error)
        set_field(self, "status", status)


class CollabAgentState(ExecRecord):
    __slots__ = ("message", "status")
    _FIELDS = ("status", "message")
    status: str
    message: str | None

    def __init__(self, *, status: str, message: str | None) -> None:
        set_field(self, "status", status)
        set_field(self, "message", message)


class CollabToolCallItem(ExecRecord):
    """A sub-agent tool call of the root thread (spawn_agent, send_input, wait, close_agent)."""

    __slots__ = (
        "agents_states",
        "id",
        "prompt",
        "receiver_thread_ids",
        "sender_thread_id",
        "status",
        "tool",
    )
    _FIELDS = (
        "id",
        "type",
        "tool",
        "sender_thread_id",
        "receiver_thread_ids",
        "prompt",
        "agents_states",
        "status",
    )
    type: Literal["collab_tool_call"] = "collab_tool_call"
    id: str
    tool: str
    sender_thread_id: str
    receiver_thread_ids: list[str]
    prompt: str | None
    agents_states: dict[str, CollabAgentState]
    status: Literal["in_progress", "completed", "failed"]

    def __init__(
        self,
        *,
        id: str,
        tool: str,
        sender_thread_id: str,
        receiver_thread_ids: list[str],
        prompt: str | None,
        agents_states: dict[str, CollabAgentState],
        status: Literal["in_progress", "completed", "failed"],
    ) -> None:
        set_field(self, "id", id)
        set_field(self, "tool", tool)
        set_field(self, "sender_thread_id", sender_thread_id)
        set_field(self, "receiver_thread_ids", receiver_thread_ids)
        set_field(self, "prompt", prompt)
        set_field(self, "agents_states", agents_states)
        set_field(self, "status", status)


class WebSearchItem(ExecRecord):
    __slots__ = ("action", "id", "query")
    _FIELDS = ("id", "type", "query", "action")
    type: Literal["web_search"] = "web_search"
    id: str
    query: str
    action: Any

    def __init__(self, *, id: str, query: str, action: Any = None) -> None:
        set_field(self, "id", id)
        set_field(self, "query", query)
        set_field(self, "action", action)


class TodoEntry(ExecRecord):
    __slots__ = ("completed", "text")
    _FIELDS = ("text", "completed")
    text: str
    completed: bool

    def __init__(self, *, text: str, completed: bool) -> None:
        set_field(self, "text", text)
        set_field(self, "completed", completed)


class TodoListItem(ExecRecord):
    __slots__ = ("id", "items")
    _FIELDS = ("id", "type", "items")
    type: Literal["todo_list"] = "todo_list"
    id: str
    items: list[TodoEntry]

    def __init__(self, *, id: str, items: list[TodoEntry]) -> None:
        set_field(self, "id", id)
        set_field(self, "items", items)


class ContextCompactionItem(ExecRecord):
    """pycodex extension: the history was compacted (consumers may ignore unknown item types)."""

    __slots__ = (
        "id",
        "items_kept",
        "items_pruned",
        "phase",
        "remote",
        "tokens_after",
        "tokens_before",
    )
    _FIELDS = (
        "id",
        "type",
        "phase",
        "tokens_before",
        "tokens_after",
        "items_kept",
        "items_pruned",
        "remote",
    )
    type: Literal["context_compaction"] = "context_compaction"
    id: str
    phase: str
    tokens_before: int
    tokens_after: int
    items_kept: int
    items_pruned: int
    remote: bool

    def __init__(
        self,
        *,
        id: str,
        phase: str,
        tokens_before: int,
        tokens_after: int,
        items_kept: int,
        items_pruned: int,
        remote: bool,
    ) -> None:
        set_field(self, "id", id)
        set_field(self, "phase", phase)
        set_field(self, "tokens_before", tokens_before)
        set_field(self, "tokens_after", tokens_after)
        set_field(self, "items_kept", items_kept)
        set_field(self, "items_pruned", items_pruned)
        set_field(self, "remote", remote)


class ErrorItem(ExecRecord):
    __slots__ = ("id", "message")
    _FIELDS = ("id", "type", "message")
    type: Literal["error"] = "error"
    id: str
    message: str

    def __init__(self, *, id: str, message: str) -> None:
        set_field(self, "id", id)
        set_field(self, "message", message)


ThreadItem = (
    AgentMessageItem
    | ReasoningItem
    | CommandExecutionItem
    | FileChangeItem
    | McpToolCallItem
    | CollabToolCallItem
    | WebSearchItem
    | TodoListItem
    | ContextCompactionItem
    | ErrorItem
)


# --- events ----------------------------------------------------------------------------------


class ThreadStarted(ExecRecord):
    __slots__ = ("thread_id",)
    _FIELDS = ("type", "thread_id")
    type: Literal["thread.started"] = "thread.started"
    thread_id: str

    def __init__(self, *, thread_id: str) -> None:
        set_field(self, "thread_id", thread_id)


class TurnStarted(ExecRecord):
    __slots__ = ()
    _FIELDS = ("type",)
    type: Literal["turn.started"] = "turn.started"


class ItemStarted(ExecRecord):
    __slots__ = ("item",)
    _FIELDS = ("type", "item")
    type: Literal["item.started"] = "item.started"
    item: ThreadItem

    def __init__(self, *, item: ThreadItem) -> None:
        set_field(self, "item", item)


class ItemUpdated(ExecRecord):
    __slots__ = ("item",)
    _FIELDS = ("type", "item")
    type: Literal["item.updated"] = "item.updated"
    item: ThreadItem

    def __init__(self, *, item: ThreadItem) -> None:
        set_field(self, "item", item)


class ItemCompleted(ExecRecord):
    __slots__ = ("item",)
    _FIELDS = ("type", "item")
    type: Literal["item.completed"] = "item.completed"
    item: ThreadItem

    def __init__(self, *, item: ThreadItem) -> None:
        set_field(self, "item", item)


class TurnCompleted(ExecRecord):
    __slots__ = ("usage",)
    _FIELDS = ("type", "usage")
    type: Literal["turn.completed"] = "turn.completed"
    usage: ExecUsage

    def __init__(self, *, usage: ExecUsage) -> None:
        set_field(self, "usage", usage)


class TurnError(ExecRecord):
    __slots__ = ("message",)
    _FIELDS = ("message",)
    message: str

    def __init__(self, *, message: str) -> None:
        set_field(self, "message", message)


class TurnFailed(ExecRecord):
    __slots__ = ("error",)
    _FIELDS = ("type", "error")
    type: Literal["turn.failed"] = "turn.failed"
    error: TurnError

    def __init__(self, *, error: TurnError) -> None:
        set_field(self, "error", error)


class ThreadError(ExecRecord):
    __slots__ = ("message",)
    _FIELDS = ("type", "message")
    type: Literal["error"] = "error"
    message: str

    def __init__(self, *, message: str) -> None:
        set_field(self, "message", message)


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
    return event.to_json()
