"""Responses API conversation items: what the model reads and writes.

Every item is a small frozen class with a `type` literal; `ResponseItem` is their union and
`parse_item` picks the class from `type`. Items the client does not know (new server features)
parse as `UnknownItem` and keep every field, so they can be echoed back exactly. Unknown *fields*
on known items are kept too (`item.extra`), and `to_wire()` leaves out optional fields the source
did not carry, so `parse_item(x).to_wire() == x` for any JSON object `x` the server sends.

These are plain `__slots__` classes, not pydantic models: items are needed on every start-up path,
and pydantic cost about 100 ms of `pycodex exec` start-up on a slow machine (see `_frozen`). Each
class lists its fields once, as annotations in wire order (`type` first); `__slots__`, the
keyword-only `__init__` and its checks are derived from them (`_frozen`, `_wire`). The checks do
what pydantic did for JSON input: strings are strings, lists are lists, `output` is a string or a
list of objects, optional fields accept None, and nested content parts become part classes. A
failed check raises `ItemValidationError` with one line naming the item type and field.

A field with the default `UNSET` is optional: left out of a constructor call, it is left out of
`to_wire()`; passing it as None sends `null`. Keyword arguments a class does not declare are kept
as unknown fields. A new item type is a class here plus its name in the `ResponseItem` union.
"""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol._wire import (
    UNSET,
    ItemValidationError,
    WireObject,
    json_kind,
    wire_parser,
)

__all__ = [
    "ContentPart",
    "CustomToolCall",
    "CustomToolCallOutput",
    "FunctionCall",
    "FunctionCallOutput",
    "InputImage",
    "InputText",
    "ItemValidationError",
    "Message",
    "OutputText",
    "Reasoning",
    "ReasoningText",
    "ResponseItem",
    "SummaryText",
    "ToolCallItem",
    "ToolSearchCall",
    "ToolSearchOutput",
    "UnknownContent",
    "UnknownItem",
    "WebSearchCall",
    "WireObject",
    "developer_message",
    "parse_item",
    "parse_items",
    "user_message",
]


# --- message content parts -------------------------------------------------------------------


class InputText(WireObject):
    _ROLE = "part"
    type: Literal["input_text"] = "input_text"
    text: str


class OutputText(WireObject):
    _ROLE = "part"
    type: Literal["output_text"] = "output_text"
    text: str


class InputImage(WireObject):
    _ROLE = "part"
    type: Literal["input_image"] = "input_image"
    image_url: str
    detail: str | None = UNSET


class UnknownContent(WireObject):
    """A content part type this version does not model; every field is kept."""

    _ROLE = "part"
    type: str


ContentPart = InputText | OutputText | InputImage | UnknownContent


# --- items -----------------------------------------------------------------------------------


class Message(WireObject):
    type: Literal["message"] = "message"
    role: str
    content: list[ContentPart]
    id: str | None = UNSET

    @property
    def text(self) -> str:
        """The concatenated text parts (input or output)."""
        return "".join(p.text for p in self.content if isinstance(p, InputText | OutputText))


class SummaryText(WireObject):
    _ROLE = "part"
    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningText(WireObject):
    _ROLE = "part"
    type: Literal["reasoning_text"] = "reasoning_text"
    text: str


class Reasoning(WireObject):
    type: Literal["reasoning"] = "reasoning"
    id: str | None = UNSET
    summary: list[SummaryText] = UNSET
    content: list[ReasoningText] | None = UNSET
    encrypted_content: str | None = UNSET

    @property
    def summary_text(self) -> str:
        return "\n\n".join(part.text for part in self.summary)


class FunctionCall(WireObject):
    """A function tool call; `namespace` names the tool namespace of a namespaced tool."""

    type: Literal["function_call"] = "function_call"
    namespace: str | None = UNSET
    name: str
    arguments: str
    call_id: str
    id: str | None = UNSET


class FunctionCallOutput(WireObject):
    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: str | list[dict[str, Any]]


class CustomToolCall(WireObject):
    type: Literal["custom_tool_call"] = "custom_tool_call"
    name: str
    input: str
    call_id: str
    id: str | None = UNSET


class CustomToolCallOutput(WireObject):
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    call_id: str
    output: str | list[dict[str, Any]]


class WebSearchCall(WireObject):
    type: Literal["web_search_call"] = "web_search_call"
    id: str | None = UNSET
    status: str | None = UNSET
    action: dict[str, Any] | None = UNSET

    @property
    def query(self) -> str:
        action = self.action or {}
        query = action.get("query")
        return query if isinstance(query, str) else ""


class ToolSearchCall(WireObject):
    """The model asks the client to search its deferred tools (`execution: "client"`)."""

    type: Literal["tool_search_call"] = "tool_search_call"
    id: str | None = UNSET
    call_id: str | None = UNSET
    status: str | None = UNSET
    execution: str | None = UNSET
    arguments: dict[str, Any] | None = UNSET


class ToolSearchOutput(WireObject):
    """The client's answer to a `tool_search_call`: the tool definitions that matched."""

    type: Literal["tool_search_output"] = "tool_search_output"
    call_id: str | None = UNSET
    status: str | None = UNSET
    execution: str | None = UNSET
    tools: list[dict[str, Any]] = UNSET


class UnknownItem(WireObject):
    """An item type this version does not model; every field is kept for echoing back."""

    _ROLE = "response item"
    type: str


ResponseItem = (
    Message
    | Reasoning
    | FunctionCall
    | FunctionCallOutput
    | CustomToolCall
    | CustomToolCallOutput
    | WebSearchCall
    | ToolSearchCall
    | ToolSearchOutput
    | UnknownItem
)
ToolCallItem = FunctionCall | CustomToolCall

_parse_response_item = wire_parser(ResponseItem)


def parse_item(data: Any) -> ResponseItem:
    """One JSON object as a response item (an item object is returned as it is).

    Raises `ItemValidationError` when a known item type lacks a field or has one of the wrong type.
    """
    item: ResponseItem = _parse_response_item(data)
    return item


def parse_items(data: Any) -> list[ResponseItem]:
    """A JSON list of response items; an error names the index of the first invalid one."""
    if not isinstance(data, list):
        raise ItemValidationError("item list", "", f"must be a list, got {json_kind(data)}")
    items: list[ResponseItem] = []
    for index, entry in enumerate(data):
        try:
            items.append(parse_item(entry))
        except ItemValidationError as err:
            raise ItemValidationError(
                f"{err.owner} at index {index}", err.field, err.problem
            ) from None
    return items


def user_message(text: str, images: list[str] | None = None) -> Message:
    """A user message with text and optional image URLs (data: URLs for local files)."""
    parts: list[ContentPart] = [InputImage(image_url=url) for url in images or []]
    parts.append(InputText(text=text))
    return Message(role="user", content=parts)


def developer_message(text: str) -> Message:
    return Message(role="developer", content=[InputText(text=text)])
