"""Responses API conversation items: what the model reads and writes.

Every item is a small frozen class with a `type` literal; `ResponseItem` is their union and
`parse_item` picks the class from `type`. Items the client does not know (new server features)
parse as `UnknownItem` and keep every field, so they can be echoed back exactly. Unknown *fields*
on known items are kept too (`item.extra`), and `to_wire()` leaves out optional fields the source
did not carry, so `parse_item(x).to_wire() == x` for any JSON object `x` the server sends.

These are plain `__slots__` classes, not pydantic models: items are needed on every start-up path,
and pydantic cost about 100 ms of `pycodex exec` start-up on a slow machine (see `_frozen`). Each
`__init__` checks its fields (the checks live in `_wire`) as pydantic did for JSON input: strings
are strings, lists are lists, `output` is a string or a list of objects, optional fields accept
None, and nested content parts become part classes. A failed check raises `ItemValidationError`
with one line naming the item type and field.

An optional field left out of a constructor call is left out of `to_wire()`; passing it as None
sends `null`. Keyword arguments a class does not declare are kept as unknown fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Self, TypeVar

from pycodex.protocol._frozen import set_field
from pycodex.protocol._wire import (
    UNSET,
    ItemValidationError,
    WireObject,
    as_object_list,
    as_optional_object,
    as_optional_str,
    as_output,
    as_parts,
    as_str,
    as_type_name,
    json_kind,
    not_given,
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
    __slots__ = ("text",)
    _FIELDS = ("type", "text")
    _REQUIRED = ("text",)
    _ROLE = "part"
    type: Literal["input_text"] = "input_text"
    text: str

    def __init__(self, /, *, text: str, **extra: Any) -> None:
        set_field(self, "text", as_str(self, "text", text))
        self._keep(extra)


class OutputText(WireObject):
    __slots__ = ("text",)
    _FIELDS = ("type", "text")
    _REQUIRED = ("text",)
    _ROLE = "part"
    type: Literal["output_text"] = "output_text"
    text: str

    def __init__(self, /, *, text: str, **extra: Any) -> None:
        set_field(self, "text", as_str(self, "text", text))
        self._keep(extra)


class InputImage(WireObject):
    __slots__ = ("detail", "image_url")
    _FIELDS = ("type", "image_url", "detail")
    _REQUIRED = ("image_url",)
    _ROLE = "part"
    type: Literal["input_image"] = "input_image"
    image_url: str
    detail: str | None

    def __init__(self, /, *, image_url: str, detail: str | None = UNSET, **extra: Any) -> None:
        set_field(self, "image_url", as_str(self, "image_url", image_url))
        set_field(self, "detail", as_optional_str(self, "detail", detail))
        self._keep(extra, ("detail",) if detail is UNSET else ())


class UnknownContent(WireObject):
    """A content part type this version does not model; every field is kept."""

    __slots__ = ("type",)
    _FIELDS = ("type",)
    _ROLE = "part"
    type: str

    def __init__(self, /, *, type: str, **extra: Any) -> None:
        set_field(self, "type", as_type_name("part", type))
        self._keep(extra)

    @classmethod
    def _from_wire(cls, data: dict[str, Any]) -> Self:
        if "type" not in data:
            raise ItemValidationError("part", "type", "is required")
        return cls(**data)


ContentPart = InputText | OutputText | InputImage | UnknownContent
_CONTENT_PARTS = (InputText, OutputText, InputImage, UnknownContent)
_CONTENT_PARSERS: dict[str, Callable[[dict[str, Any]], ContentPart]] = {
    "input_text": InputText._from_wire,
    "output_text": OutputText._from_wire,
    "input_image": InputImage._from_wire,
}


def _parse_content_part(data: Any) -> ContentPart:
    if isinstance(data, _CONTENT_PARTS):
        return data
    if not isinstance(data, dict):
        raise ItemValidationError("part", "", f"must be an object, got {json_kind(data)}")
    kind = data.get("type")
    parse = _CONTENT_PARSERS.get(kind) if isinstance(kind, str) else None
    return (parse or UnknownContent._from_wire)(data)


# --- items -----------------------------------------------------------------------------------


class Message(WireObject):
    __slots__ = ("content", "id", "role")
    _FIELDS = ("type", "role", "content", "id")
    _REQUIRED = ("role", "content")
    type: Literal["message"] = "message"
    role: str
    content: list[ContentPart]
    id: str | None

    def __init__(
        self,
        /,
        *,
        role: str,
        content: Sequence[ContentPart],
        id: str | None = UNSET,
        **extra: Any,
    ) -> None:
        set_field(self, "role", as_str(self, "role", role))
        set_field(self, "content", as_parts(self, "content", content, _parse_content_part))
        set_field(self, "id", as_optional_str(self, "id", id))
        self._keep(extra, ("id",) if id is UNSET else ())

    @property
    def text(self) -> str:
        """The concatenated text parts (input or output)."""
        return "".join(p.text for p in self.content if isinstance(p, InputText | OutputText))


class SummaryText(WireObject):
    __slots__ = ("text",)
    _FIELDS = ("type", "text")
    _REQUIRED = ("text",)
    _ROLE = "part"
    type: Literal["summary_text"] = "summary_text"
    text: str

    def __init__(self, /, *, text: str, **extra: Any) -> None:
        set_field(self, "text", as_str(self, "text", text))
        self._keep(extra)


class ReasoningText(WireObject):
    __slots__ = ("text",)
    _FIELDS = ("type", "text")
    _REQUIRED = ("text",)
    _ROLE = "part"
    type: Literal["reasoning_text"] = "reasoning_text"
    text: str

    def __init__(self, /, *, text: str, **extra: Any) -> None:
        set_field(self, "text", as_str(self, "text", text))
        self._keep(extra)


_PartT = TypeVar("_PartT", SummaryText, ReasoningText)


def _reasoning_part_parser(part: type[_PartT]) -> Callable[[Any], _PartT]:
    def parse(data: Any) -> _PartT:
        if isinstance(data, part):
            return data
        if not isinstance(data, dict):
            problem = f"must be an object, got {json_kind(data)}"
            raise ItemValidationError(f"{part.type} part", "", problem)
        return part._from_wire(data)

    return parse


_parse_summary_part = _reasoning_part_parser(SummaryText)
_parse_reasoning_part = _reasoning_part_parser(ReasoningText)


class Reasoning(WireObject):
    __slots__ = ("content", "encrypted_content", "id", "summary")
    _FIELDS = ("type", "id", "summary", "content", "encrypted_content")
    type: Literal["reasoning"] = "reasoning"
    id: str | None
    summary: list[SummaryText]
    content: list[ReasoningText] | None
    encrypted_content: str | None

    def __init__(
        self,
        /,
        *,
        id: str | None = UNSET,
        summary: Sequence[SummaryText] = UNSET,
        content: Sequence[ReasoningText] | None = UNSET,
        encrypted_content: str | None = UNSET,
        **extra: Any,
    ) -> None:
        set_field(self, "id", as_optional_str(self, "id", id))
        if summary is UNSET:
            set_field(self, "summary", [])
        else:
            set_field(self, "summary", as_parts(self, "summary", summary, _parse_summary_part))
        if content is UNSET or content is None:
            set_field(self, "content", None)
        else:
            set_field(self, "content", as_parts(self, "content", content, _parse_reasoning_part))
        set_field(
            self, "encrypted_content", as_optional_str(self, "encrypted_content", encrypted_content)
        )
        omitted = not_given(
            id=id, summary=summary, content=content, encrypted_content=encrypted_content
        )
        self._keep(extra, omitted)

    @property
    def summary_text(self) -> str:
        return "\n\n".join(part.text for part in self.summary)


class FunctionCall(WireObject):
    """A function tool call; `namespace` names the tool namespace of a namespaced tool."""

    __slots__ = ("arguments", "call_id", "id", "name", "namespace")
    _FIELDS = ("type", "namespace", "name", "arguments", "call_id", "id")
    _REQUIRED = ("name", "arguments", "call_id")
    type: Literal["function_call"] = "function_call"
    namespace: str | None
    name: str
    arguments: str
    call_id: str
    id: str | None

    def __init__(
        self,
        /,
        *,
        name: str,
        arguments: str,
        call_id: str,
        id: str | None = UNSET,
        namespace: str | None = UNSET,
        **extra: Any,
    ) -> None:
        set_field(self, "namespace", as_optional_str(self, "namespace", namespace))
        set_field(self, "name", as_str(self, "name", name))
        set_field(self, "arguments", as_str(self, "arguments", arguments))
        set_field(self, "call_id", as_str(self, "call_id", call_id))
        set_field(self, "id", as_optional_str(self, "id", id))
        self._keep(extra, not_given(id=id, namespace=namespace))


class FunctionCallOutput(WireObject):
    __slots__ = ("call_id", "output")
    _FIELDS = ("type", "call_id", "output")
    _REQUIRED = ("call_id", "output")
    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: str | list[dict[str, Any]]

    def __init__(
        self, /, *, call_id: str, output: str | Sequence[dict[str, Any]], **extra: Any
    ) -> None:
        set_field(self, "call_id", as_str(self, "call_id", call_id))
        set_field(self, "output", as_output(self, output))
        self._keep(extra)


class CustomToolCall(WireObject):
    __slots__ = ("call_id", "id", "input", "name")
    _FIELDS = ("type", "name", "input", "call_id", "id")
    _REQUIRED = ("name", "input", "call_id")
    type: Literal["custom_tool_call"] = "custom_tool_call"
    name: str
    input: str
    call_id: str
    id: str | None

    def __init__(
        self, /, *, name: str, input: str, call_id: str, id: str | None = UNSET, **extra: Any
    ) -> None:
        set_field(self, "name", as_str(self, "name", name))
        set_field(self, "input", as_str(self, "input", input))
        set_field(self, "call_id", as_str(self, "call_id", call_id))
        set_field(self, "id", as_optional_str(self, "id", id))
        self._keep(extra, ("id",) if id is UNSET else ())


class CustomToolCallOutput(WireObject):
    __slots__ = ("call_id", "output")
    _FIELDS = ("type", "call_id", "output")
    _REQUIRED = ("call_id", "output")
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    call_id: str
    output: str | list[dict[str, Any]]

    def __init__(
        self, /, *, call_id: str, output: str | Sequence[dict[str, Any]], **extra: Any
    ) -> None:
        set_field(self, "call_id", as_str(self, "call_id", call_id))
        set_field(self, "output", as_output(self, output))
        self._keep(extra)


class WebSearchCall(WireObject):
    __slots__ = ("action", "id", "status")
    _FIELDS = ("type", "id", "status", "action")
    type: Literal["web_search_call"] = "web_search_call"
    id: str | None
    status: str | None
    action: dict[str, Any] | None

    def __init__(
        self,
        /,
        *,
        id: str | None = UNSET,
        status: str | None = UNSET,
        action: dict[str, Any] | None = UNSET,
        **extra: Any,
    ) -> None:
        set_field(self, "id", as_optional_str(self, "id", id))
        set_field(self, "status", as_optional_str(self, "status", status))
        set_field(self, "action", as_optional_object(self, "action", action))
        self._keep(extra, not_given(id=id, status=status, action=action))

    @property
    def query(self) -> str:
        action = self.action or {}
        query = action.get("query")
        return query if isinstance(query, str) else ""


class ToolSearchCall(WireObject):
    """The model asks the client to search its deferred tools (`execution: "client"`)."""

    __slots__ = ("arguments", "call_id", "execution", "id", "status")
    _FIELDS = ("type", "id", "call_id", "status", "execution", "arguments")
    type: Literal["tool_search_call"] = "tool_search_call"
    id: str | None
    call_id: str | None
    status: str | None
    execution: str | None
    arguments: dict[str, Any] | None

    def __init__(
        self,
        /,
        *,
        id: str | None = UNSET,
        call_id: str | None = UNSET,
        status: str | None = UNSET,
        execution: str | None = UNSET,
        arguments: dict[str, Any] | None = UNSET,
        **extra: Any,
    ) -> None:
        set_field(self, "id", as_optional_str(self, "id", id))
        set_field(self, "call_id", as_optional_str(self, "call_id", call_id))
        set_field(self, "status", as_optional_str(self, "status", status))
        set_field(self, "execution", as_optional_str(self, "execution", execution))
        set_field(self, "arguments", as_optional_object(self, "arguments", arguments))
        omitted = not_given(
            id=id, call_id=call_id, status=status, execution=execution, arguments=arguments
        )
        self._keep(extra, omitted)


class ToolSearchOutput(WireObject):
    """The client's answer to a `tool_search_call`: the tool definitions that matched."""

    __slots__ = ("call_id", "execution", "status", "tools")
    _FIELDS = ("type", "call_id", "status", "execution", "tools")
    type: Literal["tool_search_output"] = "tool_search_output"
    call_id: str | None
    status: str | None
    execution: str | None
    tools: list[dict[str, Any]]

    def __init__(
        self,
        /,
        *,
        call_id: str | None = UNSET,
        status: str | None = UNSET,
        execution: str | None = UNSET,
        tools: Sequence[dict[str, Any]] = UNSET,
        **extra: Any,
    ) -> None:
        set_field(self, "call_id", as_optional_str(self, "call_id", call_id))
        set_field(self, "status", as_optional_str(self, "status", status))
        set_field(self, "execution", as_optional_str(self, "execution", execution))
        if tools is UNSET:
            set_field(self, "tools", [])
        else:
            set_field(self, "tools", as_object_list(self, "tools", tools))
        self._keep(
            extra, not_given(call_id=call_id, status=status, execution=execution, tools=tools)
        )


class UnknownItem(WireObject):
    """An item type this version does not model; every field is kept for echoing back."""

    __slots__ = ("type",)
    _FIELDS = ("type",)
    type: str

    def __init__(self, /, *, type: str, **extra: Any) -> None:
        set_field(self, "type", as_type_name("response item", type))
        self._keep(extra)

    @classmethod
    def _from_wire(cls, data: dict[str, Any]) -> Self:
        if "type" not in data:
            raise ItemValidationError("response item", "type", "is required")
        return cls(**data)


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

_ITEM_PARSERS: dict[str, Callable[[dict[str, Any]], ResponseItem]] = {
    "message": Message._from_wire,
    "reasoning": Reasoning._from_wire,
    "function_call": FunctionCall._from_wire,
    "function_call_output": FunctionCallOutput._from_wire,
    "custom_tool_call": CustomToolCall._from_wire,
    "custom_tool_call_output": CustomToolCallOutput._from_wire,
    "web_search_call": WebSearchCall._from_wire,
    "tool_search_call": ToolSearchCall._from_wire,
    "tool_search_output": ToolSearchOutput._from_wire,
}
_ITEM_CLASSES = (
    Message,
    Reasoning,
    FunctionCall,
    FunctionCallOutput,
    CustomToolCall,
    CustomToolCallOutput,
    WebSearchCall,
    ToolSearchCall,
    ToolSearchOutput,
    UnknownItem,
)


def parse_item(data: Any) -> ResponseItem:
    """One JSON object as a response item (an item object is returned as it is).

    Raises `ItemValidationError` when a known item type lacks a field or has one of the wrong type.
    """
    if isinstance(data, _ITEM_CLASSES):
        return data
    if not isinstance(data, dict):
        raise ItemValidationError("response item", "", f"must be an object, got {json_kind(data)}")
    kind = data.get("type")
    parse = _ITEM_PARSERS.get(kind) if isinstance(kind, str) else None
    return (parse or UnknownItem._from_wire)(data)


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
