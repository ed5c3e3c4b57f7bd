"""The public `exec --json` schema: one JSON object per line on stdout.

This is a frozen contract (CONTRACTS.md section 2) that SDKs and harnesses parse; field names,
order and casing match upstream `codex exec --json`. A snapshot test pins it.

Each class lists its fields once, as annotations in contract order (`type` is a constant where
the contract puts it); `_frozen` derives the slots and the keyword-only `__init__`. `to_json()`
writes every field in that order, None as `null`, compactly, with non-ASCII characters as they are
and floats the way pydantic wrote them (`1e-7`, `1e+16`; null for NaN and infinities), so the
lines are byte for byte what the earlier pydantic models produced. The classes are plain frozen
`__slots__` classes (see `_frozen` for why not pydantic); only `ExecJsonlProcessor` builds them,
so their field types are checked statically, not at run time. `replace(**changes)` makes a
changed copy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Literal, Self

from pycodex.protocol._frozen import MISSING, Frozen, slot_setter

_STRING_ENCODER = json.JSONEncoder(ensure_ascii=False)


class ExecRecord(Frozen):
    """Base of every event and item of the schema."""

    @classmethod
    def _make_init(cls) -> Callable[..., None]:
        return _make_record_init(cls)

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


def _make_record_init(cls: type[ExecRecord]) -> Callable[..., None]:
    """An `__init__` that stores the fields as given (keyword-only; defaults where declared)."""
    qualname = cls.__qualname__
    plan = tuple(
        (spec.name, spec.default, slot_setter(cls, spec.name))
        for spec in cls._SPECS
        if not spec.constant
    )
    constants = {spec.name: spec.default for spec in cls._SPECS if spec.constant}
    every = tuple((setter, name) for name, _default, setter in plan)

    def __init__(self: ExecRecord, /, **values: Any) -> None:
        if len(values) == len(every):  # the usual call: every field given, nothing else
            try:
                for setter, name in every:
                    setter(self, values[name])
                return
            except KeyError:
                pass  # something else was given instead: the full path says what
        for name, default, setter in plan:
            value = values.pop(name, default)
            if value is MISSING:
                raise TypeError(f"{qualname}() missing required keyword argument: {name!r}")
            setter(self, value)
        for name, value in values.items():
            if name not in constants:
                raise TypeError(f"{qualname}() got an unexpected keyword argument {name!r}")
            if value != constants[name]:
                raise TypeError(f"{qualname}() takes {name}={constants[name]!r}, got {value!r}")

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


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
    input_tokens: int
    cached_input_tokens: int
    cache_write_input_tokens: int = 0
    output_tokens: int
    reasoning_output_tokens: int = 0


# --- items -----------------------------------------------------------------------------------


class AgentMessageItem(ExecRecord):
    id: str
    type: Literal["agent_message"] = "agent_message"
    text: str


class ReasoningItem(ExecRecord):
    id: str
    type: Literal["reasoning"] = "reasoning"
    text: str


class CommandExecutionItem(ExecRecord):
    id: str
    type: Literal["command_execution"] = "command_execution"
    command: str
    aggregated_output: str
    exit_code: int | None
    status: Literal["in_progress", "completed", "failed", "declined"]


class FileUpdateChange(ExecRecord):
    path: str
    kind: Literal["add", "delete", "update"]


class FileChangeItem(ExecRecord):
    id: str
    type: Literal["file_change"] = "file_change"
    changes: list[FileUpdateChange]
    status: Literal["in_progress", "completed", "failed"]


class McpToolCallItem(ExecRecord):
    id: str
    type: Literal["mcp_tool_call"] = "mcp_tool_call"
    server: str
    tool: str
    arguments: Any
    result: Any
    error: Any
    status: Literal["in_progress", "completed", "failed"]


class CollabAgentState(ExecRecord):
    status: str
    message: str | None


class CollabToolCallItem(ExecRecord):
    """A sub-agent tool call of the root thread (spawn_agent, send_input, wait, close_agent)."""

    id: str
    type: Literal["collab_tool_call"] = "collab_tool_call"
    tool: str
    sender_thread_id: str
    receiver_thread_ids: list[str]
    prompt: str | None
    agents_states: dict[str, CollabAgentState]
    status: Literal["in_progress", "completed", "failed"]


class WebSearchItem(ExecRecord):
    id: str
    type: Literal["web_search"] = "web_search"
    query: str
    action: Any = None


class TodoEntry(ExecRecord):
    text: str
    completed: bool


class TodoListItem(ExecRecord):
    id: str
    type: Literal["todo_list"] = "todo_list"
    items: list[TodoEntry]


class ContextCompactionItem(ExecRecord):
    """pycodex extension: the history was compacted (consumers may ignore unknown item types)."""

    id: str
    type: Literal["context_compaction"] = "context_compaction"
    phase: str
    tokens_before: int
    tokens_after: int
    items_kept: int
    items_pruned: int
    remote: bool


class ErrorItem(ExecRecord):
    id: str
    type: Literal["error"] = "error"
    message: str


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
    type: Literal["thread.started"] = "thread.started"
    thread_id: str


class TurnStarted(ExecRecord):
    type: Literal["turn.started"] = "turn.started"


class ItemStarted(ExecRecord):
    type: Literal["item.started"] = "item.started"
    item: ThreadItem


class ItemUpdated(ExecRecord):
    type: Literal["item.updated"] = "item.updated"
    item: ThreadItem


class ItemCompleted(ExecRecord):
    type: Literal["item.completed"] = "item.completed"
    item: ThreadItem


class TurnCompleted(ExecRecord):
    type: Literal["turn.completed"] = "turn.completed"
    usage: ExecUsage


class TurnError(ExecRecord):
    message: str


class TurnFailed(ExecRecord):
    type: Literal["turn.failed"] = "turn.failed"
    error: TurnError


class ThreadError(ExecRecord):
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
    return event.to_json()
