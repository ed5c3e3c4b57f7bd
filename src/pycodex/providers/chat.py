"""Responses API ⇄ Chat Completions: the request body one way, the stream the other.

`responses_to_chat_request` turns a Responses request body into a Chat Completions body for a
downstream server (vLLM, llama.cpp, Ollama, OpenAI, any compatible gateway), adjusted by the
provider kind's row in `kinds.PROVIDER_KINDS`. `ChatStreamTranslator` turns the parsed
`chat.completion.chunk` objects of the answer into Responses streaming events (see
`stream_writer`; it lives in `chat_stream`). Both are pure: no HTTP, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycodex._records import dataclass, field
from pycodex.providers.chat_stream import ChatStreamTranslator
from pycodex.providers.common import (
    CLIENT_TOOL_SEARCH,
    TOOL_SEARCH_NAME,
    call_tool_name,
    content_parts,
    custom_tool_description,
    custom_tool_parameters,
    dropped_item_warning,
    hosted_tool_warning,
    item_kind,
    joined_text,
    loaded_namespaces,
    namespace_members,
    part_text,
    reasoning_item_text,
    text_format,
    tool_search_call_arguments,
    tool_search_function,
    tool_search_output_text,
    wrap_custom_input,
)
from pycodex.providers.kinds import DEFAULT_PROVIDER_KIND, ProviderKind, provider_kind
from pycodex.providers.stream_writer import failed_event

__all__ = [
    "ChatRequest",
    "ChatStreamTranslator",
    "ProviderKind",
    "failed_event",
    "responses_to_chat_request",
]

_API = "Chat Completions"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    body: dict[str, Any]
    warnings: tuple[str, ...]
    """What could not be carried over (hosted tools, unknown items); for logs, not the model."""
    custom_tool_names: frozenset[str]
    """Freeform tools sent wrapped; pass them to `ChatStreamTranslator` to unwrap the calls."""
    namespaced_tools: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Flattened namespace members: flat name -> (namespace, name), to map calls back."""


def responses_to_chat_request(
    body: Mapping[str, Any], *, kind: ProviderKind | str = DEFAULT_PROVIDER_KIND
) -> ChatRequest:
    """The Chat Completions body for a Responses request body (always streamed, with usage)."""
    row = kind if isinstance(kind, ProviderKind) else provider_kind(kind)
    warnings: list[str] = []
    namespaced: dict[str, tuple[str, str]] = {}
    offered = [*_listed(body.get("tools")), *loaded_namespaces(body.get("input"))]
    tools, custom_names = _chat_tools(offered, warnings, namespaced)
    builder = _ChatMessages(row, warnings)
    builder.add_instructions(body.get("instructions"))
    builder.add_input(body.get("input"))
    out: dict[str, Any] = {"model": body.get("model"), "messages": builder.finished()}
    if tools:
        out["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"))
        if choice is not None:
            out["tool_choice"] = choice
        if isinstance(body.get("parallel_tool_calls"), bool):
            out["parallel_tool_calls"] = body["parallel_tool_calls"]
    for key in ("temperature", "top_p"):
        if isinstance(body.get(key), int | float):
            out[key] = body[key]
    reasoning = body.get("reasoning")
    if isinstance(reasoning, Mapping) and isinstance(reasoning.get("effort"), str):
        out["reasoning_effort"] = reasoning["effort"]
    if isinstance(body.get("max_output_tokens"), int):
        out[row.max_tokens_field] = body["max_output_tokens"]
    response_format = _response_format(body)
    if response_format is not None:
        out["response_format"] = response_format
    out["stream"] = True
    out["stream_options"] = {"include_usage": True}
    return ChatRequest(out, tuple(warnings), custom_names, namespaced)


class _ChatMessages:
    """Folds Responses input items into chat messages, in order."""

    def __init__(self, kind: ProviderKind, warnings: list[str]) -> None:
        self._kind = kind
        self._warnings = warnings
        self._messages: list[dict[str, Any]] = []
        self._reasoning: list[str] = []  # waits for the assistant message it belongs to

    def add_instructions(self, instructions: Any) -> None:
        if isinstance(instructions, str) and instructions:
            self._messages.append({"role": "system", "content": instructions})

    def add_input(self, items: Any) -> None:
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping):
                self._add_item(item)

    def finished(self) -> list[dict[str, Any]]:
        if self._kind.merge_leading_system:
            return _merge_leading_system(self._messages)
        return self._messages

    def _add_item(self, item: Mapping[str, Any]) -> None:
        match item_kind(item):
            case "message":
                self._add_message(item)
            case "reasoning":
                text = reasoning_item_text(item)
                if text:
                    self._reasoning.append(text)
            case "function_call":
                arguments = item.get("arguments")
                # Some servers parse replayed arguments as JSON; an empty string would fail there.
                self._add_tool_call(
                    item, arguments if isinstance(arguments, str) and arguments else "{}"
                )
            case "custom_tool_call":
                self._add_tool_call(item, wrap_custom_input(str(item.get("input") or "")))
            case "function_call_output" | "custom_tool_call_output":
                self._add_tool_output(item)
            case "tool_search_call":
                call = {"call_id": item.get("call_id"), "name": TOOL_SEARCH_NAME}
                self._add_tool_call(call, tool_search_call_arguments(item))
            case "tool_search_output":
                output = {"call_id": item.get("call_id"), "output": tool_search_output_text(item)}
                self._add_tool_output(output)
            case _:
                self._warnings.append(dropped_item_warning(item, _API))

    def _add_message(self, item: Mapping[str, Any]) -> None:
        role = item.get("role")
        if role == "assistant":
            message: dict[str, Any] = {
                "role": "assistant",
                "content": joined_text(item.get("content")),
            }
            self._attach_reasoning(message)
            self._messages.append(message)
            return
        self._reasoning.clear()  # reasoning belongs to an answer; none followed this one
        if role == "user":
            self._messages.append({"role": "user", "content": self._user_content(item)})
        elif role in ("system", "developer"):
            chat_role = "system" if role == "system" else self._kind.developer_role
            self._messages.append({"role": chat_role, "content": joined_text(item.get("content"))})
        else:
            self._warnings.append(f"message with role {role!r} was dropped")

    def _user_content(self, item: Mapping[str, Any]) -> str | list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for part in content_parts(item.get("content")):
            text = part_text(part)
            if text is not None:
                parts.append({"type": "text", "text": text})
            elif part.get("type") == "input_image" and isinstance(part.get("image_url"), str):
                image = {"url": part["image_url"]}
                if isinstance(part.get("detail"), str):
                    image["detail"] = part["detail"]
                parts.append({"type": "image_url", "image_url": image})
            else:
                self._warnings.append(f"content part of type {part.get('type')!r} was dropped")
        if all(part["type"] == "text" for part in parts):
            # Plain strings suit every chat template; the list form is needed only for images.
            return "\n\n".join(part["text"] for part in parts)
        return parts

    def _add_tool_call(self, item: Mapping[str, Any], arguments: str) -> None:
        call = {
            "id": str(item.get("call_id") or ""),
            "type": "function",
            "function": {"name": call_tool_name(item), "arguments": arguments},
        }
        last = self._messages[-1] if self._messages else None
        if last is None or last["role"] != "assistant":
            # Consecutive calls (and the text before them) form one assistant message.
            last = {"role": "assistant", "content": None}
            self._messages.append(last)
        self._attach_reasoning(last)
        last.setdefault("tool_calls", []).append(call)

    def _add_tool_output(self, item: Mapping[str, Any]) -> None:
        self._reasoning.clear()
        output = item.get("output")
        if isinstance(output, list) and any(part_text(p) is None for p in content_parts(output)):
            self._warnings.append("non-text parts of a tool output were dropped")
        content = output if isinstance(output, str) else joined_text(output)
        call_id = str(item.get("call_id") or "")
        self._messages.append({"role": "tool", "tool_call_id": call_id, "content": content})

    def _attach_reasoning(self, message: dict[str, Any]) -> None:
        field_name = self._kind.reasoning_replay_field
        if self._reasoning and field_name is not None:
            earlier = message.get(field_name)
            message[field_name] = "\n\n".join(
                [earlier, *self._reasoning] if earlier else self._reasoning
            )
        self._reasoning.clear()


def _merge_leading_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    count = 0
    while count < len(messages) and messages[count]["role"] == "system":
        count += 1
    if count < 2:
        return messages
    merged = "\n\n".join(str(m["content"]) for m in messages[:count] if m["content"])
    return [{"role": "system", "content": merged}, *messages[count:]]


def _chat_tools(
    tools: Any, warnings: list[str], namespaced: dict[str, tuple[str, str]]
) -> tuple[list[dict[str, Any]], frozenset[str]]:
    """Function tools as they are; freeform tools wrapped; namespace members flattened to
    `<namespace>__<name>`; hosted tools left out, with a warning."""
    chat_tools: list[dict[str, Any]] = []
    custom: set[str] = set()
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, Mapping):
            continue
        kind, name = tool.get("type"), tool.get("name")
        if kind == "namespace":
            for flat, member_name, member in namespace_members(tool, warnings, _API):
                if flat not in namespaced:
                    namespaced[flat] = (str(name), member_name)
                    chat_tools.append({"type": "function", "function": _function(flat, member)})
            continue
        if kind == TOOL_SEARCH_NAME and tool.get("execution", "client") == "client":
            namespaced[TOOL_SEARCH_NAME] = CLIENT_TOOL_SEARCH
            chat_tools.append({"type": "function", "function": tool_search_function(tool)})
            continue
        if kind not in ("function", "custom"):
            warnings.append(hosted_tool_warning(tool, _API))
            continue
        if not isinstance(name, str) or not name:
            warnings.append(f"{kind} tool without a name was dropped")
            continue
        if kind == "custom":
            custom.add(name)
            function: dict[str, Any] = {"name": name}
            function["description"] = custom_tool_description(tool)
            function["parameters"] = custom_tool_parameters()
        else:
            function = _function(name, tool)
        chat_tools.append({"type": "function", "function": function})
    return chat_tools, frozenset(custom)


def _listed(tools: Any) -> list[Any]:
    return list(tools) if isinstance(tools, list) else []


def _function(name: str, tool: Mapping[str, Any]) -> dict[str, Any]:
    function: dict[str, Any] = {"name": name}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return function


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, str) and choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, Mapping):
        if choice.get("type") in ("function", "custom") and isinstance(choice.get("name"), str):
            return {"type": "function", "function": {"name": choice["name"]}}
        return "auto"  # e.g. `allowed_tools`, which Chat Completions cannot express
    return None


def _response_format(body: Mapping[str, Any]) -> dict[str, Any] | None:
    fmt = text_format(body)
    if fmt is None:
        return None
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    schema: dict[str, Any] = {"name": fmt.get("name") or "output", "schema": fmt.get("schema")}
    if isinstance(fmt.get("strict"), bool):
        schema["strict"] = fmt["strict"]
    return {"type": "json_schema", "json_schema": schema}
