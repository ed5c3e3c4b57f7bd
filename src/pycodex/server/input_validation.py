"""The shape of a Responses request's input items, tools and tool choice.

Every item type the server can carry to a Chat Completions or Messages downstream is accepted, with
the fields the translators read checked for presence and type; any other item type is a 400 (a
translator would otherwise drop it and the model would answer a conversation the client never
sent). `web_search_call` is the one exception: it records that a hosted search ran, the results
are in the message after it, and Codex replays it in its history, so it passes (and the
translator leaves it out, with a warning in the log).

Tools: `function` and `custom` tools need a name the downstream accepts; other tool types are
hosted by the Responses API (`web_search`, `file_search`, ...) and are left out downstream with
a warning, as Codex sends `web_search` with every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pycodex.server.errors import (
    ApiError,
    check_type,
    invalid_value,
    missing,
    unsupported,
    wrong_type,
)

_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_ROLES = ("user", "assistant", "system", "developer")
_TEXT_PARTS = ("input_text", "output_text", "text", "refusal")
_CHOICE_STRINGS = ("auto", "none", "required")


def check_input_items(items: list[Any]) -> None:
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise wrong_type(where, "an object", item)
        kind = item.get("type", "message" if "role" in item else None)
        if not isinstance(kind, str):
            raise wrong_type(f"{where}.type", "a string", kind)
        check = _ITEM_CHECKS.get(kind)
        if check is None:
            raise _unknown_item(where, kind)
        check(item, where)


def _message(item: dict[str, Any], where: str) -> None:
    role = item.get("role")
    if role not in _ROLES:
        if role is None:
            raise missing(f"{where}.role")
        raise invalid_value(f"{where}.role", role, "one of " + ", ".join(map(repr, _ROLES)))
    _text_or_parts(item.get("content"), f"{where}.content")


def _text_or_parts(value: Any, where: str) -> None:
    """A message's content or a tool's output: a string, or content parts."""
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise wrong_type(where, "a string or an array of content parts", value)
    for index, part in enumerate(value):
        _content_part(part, f"{where}[{index}]")


def _content_part(part: Any, where: str) -> None:
    if not isinstance(part, dict):
        raise wrong_type(where, "an object", part)
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        key = "refusal" if kind == "refusal" else "text"
        value = part.get(key)
        if not isinstance(value, str):
            raise wrong_type(f"{where}.{key}", "a string", value)
    elif kind == "input_image":
        if part.get("image_url") is None and part.get("file_id") is not None:
            raise unsupported(
                f"{where}.file_id", "Images by file_id are not supported by this server."
            )
        if not isinstance(part.get("image_url"), str):
            raise wrong_type(f"{where}.image_url", "a string", part.get("image_url"))
    elif kind == "input_file":
        raise unsupported(f"{where}.type", "File inputs are not supported by this server.")
    elif not isinstance(kind, str):
        raise wrong_type(f"{where}.type", "a string", kind)
    else:
        raise invalid_value(f"{where}.type", kind, "a text or input_image content part")


def _call(*keys: str) -> Callable[[dict[str, Any], str], None]:
    """A tool call: `call_id` and `name` non-empty strings, the other `keys` strings."""

    def check(item: dict[str, Any], where: str) -> None:
        for key in ("call_id", "name"):
            _non_empty(item.get(key), f"{where}.{key}")
        for key in keys:
            check_type(item.get(key), f"{where}.{key}", str, "a string")
            if item.get(key) is None:
                raise missing(f"{where}.{key}")

    return check


def _non_empty(value: Any, param: str) -> None:
    if not isinstance(value, str):
        raise wrong_type(param, "a non-empty string", value)
    if not value:
        raise invalid_value(param, value, "a non-empty string")


def _tool_output(item: dict[str, Any], where: str) -> None:
    _non_empty(item.get("call_id"), f"{where}.call_id")
    _text_or_parts(item.get("output"), f"{where}.output")


def _reasoning(item: dict[str, Any], where: str) -> None:
    for key in ("summary", "content"):
        parts = item.get(key)
        check_type(parts, f"{where}.{key}", list, "an array")
        for index, part in enumerate(parts or []):
            if not isinstance(part, dict) or not isinstance(part.get("text"), str):
                raise wrong_type(f"{where}.{key}[{index}].text", "a string", _text_of(part))
    check_type(item.get("encrypted_content"), f"{where}.encrypted_content", str, "a string")


def _compaction(item: dict[str, Any], where: str) -> None:
    check_type(item.get("encrypted_content"), f"{where}.encrypted_content", str, "a string")


def _passed_over(item: dict[str, Any], where: str) -> None:
    """Accepted, and left out downstream by the translator (see the module docstring)."""


_ITEM_CHECKS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "message": _message,
    "function_call": _call("arguments"),
    "function_call_output": _tool_output,
    "custom_tool_call": _call("input"),
    "custom_tool_call_output": _tool_output,
    "reasoning": _reasoning,
    "compaction": _compaction,
    "context_compaction": _compaction,
    "web_search_call": _passed_over,
}


def _unknown_item(where: str, kind: str) -> ApiError:
    accepted = ", ".join(sorted(_ITEM_CHECKS))
    return ApiError.invalid_request(
        f"Invalid value for '{where}.type': this server cannot carry input items of type "
        f"{kind!r} to its model server; it accepts {accepted}.",
        param=f"{where}.type",
        code="invalid_value",
    )


def _text_of(part: Any) -> Any:
    return part.get("text") if isinstance(part, dict) else part


def check_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise wrong_type("tools", "an array", tools)
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise wrong_type(where, "an object", tool)
        kind = tool.get("type")
        if not isinstance(kind, str):
            raise wrong_type(f"{where}.type", "a string", kind)
        if kind in ("function", "custom"):
            _named_tool(tool, where)


def _named_tool(tool: dict[str, Any], where: str) -> None:
    name = tool.get("name")
    if not isinstance(name, str):
        raise wrong_type(f"{where}.name", "a string", name)
    if not _TOOL_NAME.fullmatch(name):
        raise invalid_value(
            f"{where}.name", name, "1 to 128 letters, digits, underscores or hyphens"
        )
    check_type(tool.get("description"), f"{where}.description", str, "a string")
    if tool["type"] == "function":
        check_type(tool.get("parameters"), f"{where}.parameters", dict, "an object")
        check_type(tool.get("strict"), f"{where}.strict", bool, "a boolean")
    else:
        check_type(tool.get("format"), f"{where}.format", dict, "an object")


def check_tool_choice(choice: Any) -> None:
    if choice is None or choice in _CHOICE_STRINGS:
        return
    if isinstance(choice, str):
        raise invalid_value("tool_choice", choice, "'auto', 'none', 'required' or an object")
    if not isinstance(choice, dict):
        raise wrong_type("tool_choice", "a string or an object", choice)
    kind = choice.get("type")
    if not isinstance(kind, str):
        raise wrong_type("tool_choice.type", "a string", kind)
    if kind in ("function", "custom"):
        check_type(choice.get("name"), "tool_choice.name", str, "a string")
        if choice.get("name") is None:
            raise missing("tool_choice.name")
