"""Responses API conversation items: what the model reads and writes.

Every item is a frozen pydantic model with a `type` literal; `ResponseItem` is their discriminated
union. Items the client does not know (new server features) parse as `UnknownItem` and keep every
field, so they can be echoed back exactly. Unknown *fields* on known items are kept too
(`extra="allow"`), and serialization leaves out fields the source did not carry, so
`parse_item(x).to_wire() == x` for any JSON object `x` the server sends.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, TypeAdapter


class WireModel(BaseModel):
    """Base of every wire model: frozen, unknown fields kept, `type` always serialized."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def model_post_init(self, context: Any, /) -> None:
        # `type` has a default on most models; marking it as set keeps it in `to_wire()` output.
        if "type" in type(self).model_fields:
            self.__pydantic_fields_set__.add("type")

    def to_wire(self) -> dict[str, Any]:
        """The JSON object for this model, holding exactly the fields that were set."""
        return self.model_dump(mode="json", exclude_unset=True)


# --- message content parts -------------------------------------------------------------------


class InputText(WireModel):
    type: Literal["input_text"] = "input_text"
    text: str


class OutputText(WireModel):
    type: Literal["output_text"] = "output_text"
    text: str


class InputImage(WireModel):
    type: Literal["input_image"] = "input_image"
    image_url: str
    detail: str | None = None


class UnknownContent(WireModel):
    type: str


_KNOWN_CONTENT = frozenset({"input_text", "output_text", "input_image"})


def _content_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _KNOWN_CONTENT else "unknown"


ContentPart = Annotated[
    Annotated[InputText, Tag("input_text")]
    | Annotated[OutputText, Tag("output_text")]
    | Annotated[InputImage, Tag("input_image")]
    | Annotated[UnknownContent, Tag("unknown")],
    Discriminator(_content_tag),
]


# --- items -----------------------------------------------------------------------------------


class Message(WireModel):
    type: Literal["message"] = "message"
    role: str
    content: list[ContentPart]
    id: str | None = None

    @property
    def text(self) -> str:
        """The concatenated text parts (input or output)."""
        return "".join(p.text for p in self.content if isinstance(p, InputText | OutputText))


class SummaryText(WireModel):
    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningText(WireModel):
    type: Literal["reasoning_text"] = "reasoning_text"
    text: str


class Reasoning(WireModel):
    type: Literal["reasoning"] = "reasoning"
    id: str | None = None
    summary: list[SummaryText] = []
    content: list[ReasoningText] | None = None
    encrypted_content: str | None = None

    @property
    def summary_text(self) -> str:
        return "\n\n".join(part.text for part in self.summary)


class FunctionCall(WireModel):
    type: Literal["function_call"] = "function_call"
    name: str
    arguments: str
    call_id: str
    id: str | None = None


class FunctionCallOutput(WireModel):
    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: str | list[dict[str, Any]]


class CustomToolCall(WireModel):
    type: Literal["custom_tool_call"] = "custom_tool_call"
    name: str
    input: str
    call_id: str
    id: str | None = None


class CustomToolCallOutput(WireModel):
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    call_id: str
    output: str | list[dict[str, Any]]


class WebSearchCall(WireModel):
    type: Literal["web_search_call"] = "web_search_call"
    id: str | None = None
    status: str | None = None
    action: dict[str, Any] | None = None

    @property
    def query(self) -> str:
        action = self.action or {}
        query = action.get("query")
        return query if isinstance(query, str) else ""


class UnknownItem(WireModel):
    """An item type this version does not model; every field is kept for echoing back."""

    type: str


_KNOWN_ITEMS = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "web_search_call",
    }
)


def _item_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _KNOWN_ITEMS else "unknown"


ResponseItem = Annotated[
    Annotated[Message, Tag("message")]
    | Annotated[Reasoning, Tag("reasoning")]
    | Annotated[FunctionCall, Tag("function_call")]
    | Annotated[FunctionCallOutput, Tag("function_call_output")]
    | Annotated[CustomToolCall, Tag("custom_tool_call")]
    | Annotated[CustomToolCallOutput, Tag("custom_tool_call_output")]
    | Annotated[WebSearchCall, Tag("web_search_call")]
    | Annotated[UnknownItem, Tag("unknown")],
    Discriminator(_item_tag),
]

_ITEM_ADAPTER: TypeAdapter[ResponseItem] = TypeAdapter(ResponseItem)
_ITEM_LIST_ADAPTER: TypeAdapter[list[ResponseItem]] = TypeAdapter(list[ResponseItem])


def parse_item(data: Any) -> ResponseItem:
    """Validate one JSON object as a response item (raises pydantic.ValidationError)."""
    return _ITEM_ADAPTER.validate_python(data)


def parse_items(data: Any) -> list[ResponseItem]:
    return _ITEM_LIST_ADAPTER.validate_python(data)


def user_message(text: str, images: list[str] | None = None) -> Message:
    """A user message with text and optional image URLs (data: URLs for local files)."""
    parts: list[InputText | OutputText | InputImage | UnknownContent] = [
        InputImage(image_url=url) for url in images or []
    ]
    parts.append(InputText(text=text))
    return Message(role="user", content=parts)


def developer_message(text: str) -> Message:
    return Message(role="developer", content=[InputText(text=text)])


ToolCallItem = FunctionCall | CustomToolCall
