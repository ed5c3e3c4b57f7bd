"""Responses API ⇄ Anthropic Messages: the request body one way, the stream the other.

`responses_to_messages_request` turns a Responses request body into a Messages body;
`MessagesStreamTranslator` (in `anthropic_stream`) turns the Messages stream events into
Responses streaming events. Both are pure: no HTTP, no I/O.

Messages facts relied on: `system` is separate from `messages`, which alternate user/assistant
turns made of content blocks; tool calls are assistant `tool_use` blocks answered by user
`tool_result` blocks, which must come first in their message; `max_tokens` is required; with
extended thinking on, earlier `thinking` blocks must be sent back unchanged (text and
`signature`), and the last assistant turn of a tool loop must start with one.

`reasoning.effort` → `thinking.budget_tokens` (`THINKING_BUDGETS`; `none`/`minimal` turn thinking
off). The budget is capped below `max_tokens`; below Anthropic's minimum of 1024, thinking is off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pycodex._records import dataclass, field
from pycodex.providers.anthropic_stream import REDACTED_THINKING_PREFIX, MessagesStreamTranslator
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
)

__all__ = [
    "THINKING_BUDGETS",
    "MessagesRequest",
    "MessagesStreamTranslator",
    "anthropic_headers",
    "responses_to_messages_request",
]

_API = "Anthropic Messages"
DEFAULT_MAX_TOKENS = 32000
MIN_THINKING_BUDGET = 1024
THINKING_BUDGETS: Mapping[str, int] = MappingProxyType(
    {"low": 2048, "medium": 8192, "high": 16384, "xhigh": 24576}
)
_DATA_URL = re.compile(r"data:([^;,]+);base64,(.*)", re.DOTALL)


def anthropic_headers(api_key: str, version: str = "2023-06-01") -> dict[str, str]:
    """The authentication and version headers every Messages request carries."""
    return {"x-api-key": api_key, "anthropic-version": version}


@dataclass(frozen=True, slots=True)
class MessagesRequest:
    body: dict[str, Any]
    warnings: tuple[str, ...]
    """What could not be carried over (hosted tools, unknown items); for logs, not the model."""
    custom_tool_names: frozenset[str]
    """Freeform tools sent wrapped; pass them to `MessagesStreamTranslator` to unwrap calls."""
    namespaced_tools: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Flattened namespace members: flat name -> (namespace, name), to map calls back."""


def responses_to_messages_request(
    body: Mapping[str, Any], *, default_max_tokens: int = DEFAULT_MAX_TOKENS
) -> MessagesRequest:
    """The Messages body for a Responses request body (always streamed)."""
    warnings: list[str] = []
    namespaced: dict[str, tuple[str, str]] = {}
    listed = body.get("tools")
    offered = [*(listed if isinstance(listed, list) else []), *loaded_namespaces(body.get("input"))]
    tools, custom_names = _messages_tools(offered, warnings, namespaced)
    requested = body.get("max_output_tokens")
    max_tokens = requested if isinstance(requested, int) and requested > 0 else default_max_tokens
    choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
    thinking = _thinking(body.get("reasoning"), max_tokens, choice, warnings)
    builder = _MessagesBuilder(warnings, replay_thinking=thinking is not None)
    builder.add_input(body.get("input"))
    if thinking is not None and not builder.tool_loop_starts_with_thinking():
        warnings.append(
            "thinking was turned off for this request: the last assistant turn has no thinking "
            "block to replay (history from another model)"
        )
        thinking = None
        builder.drop_thinking()
    out: dict[str, Any] = {"model": body.get("model"), "max_tokens": max_tokens}
    system = _system_text(body, builder.system, warnings)
    if system:
        out["system"] = system
    out["messages"] = builder.messages
    if tools:
        out["tools"] = tools
        if choice is not None:
            out["tool_choice"] = choice
    if thinking is not None:
        out["thinking"] = thinking
    _copy_sampling(body, out, thinking is not None, warnings)
    out["stream"] = True
    return MessagesRequest(out, tuple(warnings), custom_names, namespaced)


class _MessagesBuilder:
    """Folds Responses input items into alternating Messages turns, in order."""

    def __init__(self, warnings: list[str], *, replay_thinking: bool) -> None:
        self._warnings = warnings
        self._replay_thinking = replay_thinking
        self.system: list[str] = []
        self.messages: list[dict[str, Any]] = []

    def add_input(self, items: Any) -> None:
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping):
                self._add_item(item)

    def tool_loop_starts_with_thinking(self) -> bool:
        assistant = [m for m in self.messages if m["role"] == "assistant"]
        if not assistant or not any(b["type"] == "tool_use" for b in assistant[-1]["content"]):
            return True
        return bool(assistant[-1]["content"][0]["type"] in ("thinking", "redacted_thinking"))

    def drop_thinking(self) -> None:
        for message in self.messages:
            kept = [b for b in message["content"] if b["type"] not in _THINKING_BLOCKS]
            message["content"] = kept
        self.messages = [m for m in self.messages if m["content"]]

    def _add_item(self, item: Mapping[str, Any]) -> None:
        match item_kind(item):
            case "message":
                self._add_message(item)
            case "reasoning":
                block = _thinking_block(item)
                if block is not None and self._replay_thinking:
                    self._append("assistant", [block])
            case "function_call":
                arguments = _arguments_object(item.get("arguments"), self._warnings)
                self._append("assistant", [_tool_use(item, arguments)])
            case "custom_tool_call":
                self._append("assistant", [_tool_use(item, {"input": str(item.get("input", ""))})])
            case "function_call_output" | "custom_tool_call_output":
                self._append("user", [self._tool_result(item)])
            case "tool_search_call":
                call = {"call_id": item.get("call_id"), "name": TOOL_SEARCH_NAME}
                arguments = json.loads(tool_search_call_arguments(item))
                self._append("assistant", [_tool_use(call, arguments)])
            case "tool_search_output":
                output = {"call_id": item.get("call_id"), "output": tool_search_output_text(item)}
                self._append("user", [self._tool_result(output)])
            case _:
                self._warnings.append(dropped_item_warning(item, _API))

    def _add_message(self, item: Mapping[str, Any]) -> None:
        role = item.get("role")
        if role in ("system", "developer"):
            text = joined_text(item.get("content"))
            if text:
                self.system.append(text)
        elif role == "assistant":
            text = joined_text(item.get("content"))
            self._append("assistant", [{"type": "text", "text": text}] if text else [])
        elif role == "user":
            self._append("user", self._blocks(item.get("content")))
        else:
            self._warnings.append(f"message with role {role!r} was dropped")

    def _blocks(self, content: Any) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        for part in content_parts(content):
            text = part_text(part)
            if text:  # Anthropic rejects empty text blocks
                blocks.append({"type": "text", "text": text})
            elif part.get("type") == "input_image":
                image = _image_block(part.get("image_url"))
                if image is not None:
                    blocks.append(image)
                else:
                    self._warnings.append("an image that is not a data: or http(s) URL was dropped")
            elif text is None:
                self._warnings.append(f"content part of type {part.get('type')!r} was dropped")
        return blocks

    def _tool_result(self, item: Mapping[str, Any]) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": str(item.get("call_id"))}
        output = item.get("output")
        content: str | list[dict[str, Any]] = (
            output if isinstance(output, str) else self._blocks(output)
        )
        if content:
            block["content"] = content
        return block

    def _append(self, role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        last = self.messages[-1] if self.messages else None
        if last is None or last["role"] != role:
            self.messages.append({"role": role, "content": blocks})
        elif role == "user":
            merged = last["content"] + blocks
            results = [b for b in merged if b["type"] == "tool_result"]
            last["content"] = results + [b for b in merged if b["type"] != "tool_result"]
        else:
            last["content"] += blocks


_THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})


def _thinking_block(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """A reasoning item that came from Anthropic (its signature kept), as a thinking block."""
    signature = item.get("encrypted_content")
    if not isinstance(signature, str) or not signature:
        return None
    if signature.startswith(REDACTED_THINKING_PREFIX):
        return {"type": "redacted_thinking", "data": signature[len(REDACTED_THINKING_PREFIX) :]}
    content = item.get("content")
    if not isinstance(content, list):
        # Other providers' reasoning items carry summaries and their own encrypted blobs,
        # which Anthropic would reject as a bad signature.
        return None
    return {"type": "thinking", "thinking": reasoning_item_text(item), "signature": signature}


def _tool_use(item: Mapping[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": str(item.get("call_id") or ""),
        "name": call_tool_name(item),
        "input": arguments,
    }


def _arguments_object(arguments: Any, warnings: list[str]) -> dict[str, Any]:
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) and arguments else {}
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    warnings.append("tool call arguments that are not a JSON object were replayed as {}")
    return {}


def _image_block(url: Any) -> dict[str, Any] | None:
    if not isinstance(url, str):
        return None
    data_url = _DATA_URL.fullmatch(url)
    if data_url is not None:
        media_type, data = data_url.groups()
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    return None


def _system_text(body: Mapping[str, Any], system: list[str], warnings: list[str]) -> str:
    texts = [body["instructions"]] if isinstance(body.get("instructions"), str) else []
    texts += system
    fmt = text_format(body)
    if fmt is not None:
        # Messages has no response_format; the schema becomes an instruction instead.
        warnings.append("text.format is sent as a system instruction, not enforced")
        if fmt.get("type") == "json_schema":
            schema = json.dumps(fmt.get("schema"), ensure_ascii=False)
            texts.append(
                f"Answer with a single JSON value that matches this JSON schema:\n{schema}"
            )
        else:
            texts.append("Answer with a single JSON object.")
    return "\n\n".join(text for text in texts if text)


def _messages_tools(
    tools: Any, warnings: list[str], namespaced: dict[str, tuple[str, str]]
) -> tuple[list[dict[str, Any]], frozenset[str]]:
    """Function tools as they are; freeform tools wrapped; namespace members flattened to
    `<namespace>__<name>`; hosted tools left out, with a warning."""
    out: list[dict[str, Any]] = []
    custom: set[str] = set()
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, Mapping):
            continue
        kind, name = tool.get("type"), tool.get("name")
        if kind == "namespace":
            for flat, member_name, member in namespace_members(tool, warnings, _API):
                if flat not in namespaced:
                    namespaced[flat] = (str(name), member_name)
                    out.append(_function_spec(flat, member))
        elif kind == TOOL_SEARCH_NAME and tool.get("execution", "client") == "client":
            namespaced[TOOL_SEARCH_NAME] = CLIENT_TOOL_SEARCH
            out.append(_function_spec(TOOL_SEARCH_NAME, tool_search_function(tool)))
        elif kind not in ("function", "custom"):
            warnings.append(hosted_tool_warning(tool, _API))
        elif not isinstance(name, str) or not name:
            warnings.append(f"{kind} tool without a name was dropped")
        elif kind == "custom":
            custom.add(name)
            description = custom_tool_description(tool)
            out.append(
                {"name": name, "description": description, "input_schema": custom_tool_parameters()}
            )
        else:
            out.append(_function_spec(name, tool))
    return out, frozenset(custom)


def _function_spec(name: str, tool: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name}
    if isinstance(tool.get("description"), str):
        spec["description"] = tool["description"]
    spec["input_schema"] = tool.get("parameters") or {"type": "object", "properties": {}}
    return spec


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    result: dict[str, Any] | None = None
    if choice == "auto":
        result = {"type": "auto"}
    elif choice == "required":
        result = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, Mapping) and isinstance(choice.get("name"), str):
        result = {"type": "tool", "name": choice["name"]}
    if parallel is False:
        result = {**(result or {"type": "auto"}), "disable_parallel_tool_use": True}
    return result


def _thinking(
    reasoning: Any, max_tokens: int, choice: Mapping[str, Any] | None, warnings: list[str]
) -> dict[str, Any] | None:
    effort = reasoning.get("effort") if isinstance(reasoning, Mapping) else None
    budget = THINKING_BUDGETS.get(effort) if isinstance(effort, str) else None
    if budget is None:
        return None
    if choice is not None and choice.get("type") in ("any", "tool"):
        warnings.append("thinking is off: Anthropic does not allow it with a forced tool choice")
        return None
    budget = min(budget, max_tokens - 1)
    if budget < MIN_THINKING_BUDGET:
        warnings.append(f"thinking is off: max_tokens {max_tokens} leaves no room for it")
        return None
    return {"type": "enabled", "budget_tokens": budget}


def _copy_sampling(
    body: Mapping[str, Any], out: dict[str, Any], thinking: bool, warnings: list[str]
) -> None:
    for key in ("temperature", "top_p"):
        value = body.get(key)
        if not isinstance(value, int | float):
            continue
        if thinking:
            warnings.append(f"{key} was not sent: Anthropic rejects it with thinking on")
        else:
            out[key] = value
