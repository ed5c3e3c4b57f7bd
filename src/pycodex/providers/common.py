"""Pieces both downstream translations share: freeform-tool wrapping and Responses content reading.

A Responses *custom* (freeform) tool takes raw text, often constrained by a Lark grammar. Chat
Completions and Anthropic Messages only know JSON-schema tools, so a custom tool is advertised as a
function with one string parameter `input`, and a call to it is unwrapped back into raw text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

NAMESPACE_SEPARATOR = "__"
"""Joins a namespace and a member name into one function name: `multi_agent_v1__wait_agent`."""

CUSTOM_INPUT_FIELD = "input"
"""The single string parameter a freeform tool is wrapped into."""

# A tuple, not a set: a JSON `type` may be unhashable (a list or object) in a bad request.
_TEXT_PART_TYPES = ("input_text", "output_text", "text", "refusal")


def custom_tool_description(tool: Mapping[str, Any]) -> str:
    """The description a wrapped freeform tool is advertised with: its own, plus how to call it."""
    notes: list[str] = []
    own = str(tool.get("description") or "").strip()
    if own:
        notes.append(own)
    notes.append(
        f"Call this tool with one JSON string parameter `{CUSTOM_INPUT_FIELD}` holding the raw "
        "text for the tool; the text is passed on verbatim, so do not escape it beyond JSON."
    )
    grammar = tool.get("format")
    if isinstance(grammar, Mapping) and grammar.get("type") == "grammar":
        definition = str(grammar.get("definition") or "").strip()
        syntax = str(grammar.get("syntax") or "lark")
        if definition:
            notes.append(f"The text must follow this {syntax} grammar:\n{definition}")
    return "\n\n".join(notes)


def custom_tool_parameters() -> dict[str, Any]:
    """The JSON schema of a wrapped freeform tool (a fresh dict: callers may embed it)."""
    return {
        "type": "object",
        "properties": {
            CUSTOM_INPUT_FIELD: {"type": "string", "description": "The raw text for the tool."}
        },
        "required": [CUSTOM_INPUT_FIELD],
        "additionalProperties": False,
    }


def wrap_custom_input(text: str) -> str:
    """A freeform tool call's raw text as the JSON arguments of the wrapping function."""
    return json.dumps({CUSTOM_INPUT_FIELD: text}, ensure_ascii=False)


def unwrap_custom_input(arguments: str) -> str:
    """The raw text of a wrapped call; arguments that are not `{"input": "..."}` are kept as-is.

    Models sometimes skip the wrapper and write the raw text directly; passing that on lets the
    tool judge it instead of losing the call.
    """
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    if isinstance(parsed, dict):
        value = parsed.get(CUSTOM_INPUT_FIELD)
        if isinstance(value, str):
            return value
    return arguments


TOOL_SEARCH_NAME = "tool_search"
CLIENT_TOOL_SEARCH = ("", TOOL_SEARCH_NAME)
"""The entry of a request's flattened-name map for the client-run `tool_search` tool: it goes
downstream as a plain function, and a call to it comes back as a `tool_search_call` item."""


def tool_search_function(tool: Mapping[str, Any]) -> dict[str, Any]:
    """The client-run `tool_search` tool as a plain function spec (`name`, `description`,
    `parameters`)."""
    parameters = tool.get("parameters")
    if not isinstance(parameters, Mapping):
        parameters = {
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "number"}},
            "required": ["query"],
        }
    description = tool.get("description")
    return {
        "name": TOOL_SEARCH_NAME,
        "description": description if isinstance(description, str) else "Search for tools.",
        "parameters": parameters,
    }


def loaded_namespaces(items: Any) -> list[Mapping[str, Any]]:
    """The namespaces earlier `tool_search_output` items loaded: the model may call them now."""
    found: list[Mapping[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("type") == "tool_search_output":
            tools = item.get("tools")
            found += [t for t in tools if isinstance(t, Mapping)] if isinstance(tools, list) else []
    return found


def tool_search_call_arguments(item: Mapping[str, Any]) -> str:
    arguments = item.get("arguments")
    return json.dumps(arguments if isinstance(arguments, Mapping) else {}, ensure_ascii=False)


def tool_search_output_text(item: Mapping[str, Any]) -> str:
    """A loaded-tools answer as text for a wire whose tool results are text."""
    names = []
    for tool in item.get("tools") or []:
        if isinstance(tool, Mapping):
            members = [m.get("name") for m in tool.get("tools") or [] if isinstance(m, Mapping)]
            names.append(f"{tool.get('name')} ({', '.join(str(m) for m in members)})")
    if not names:
        return "No tools matched."
    return "Loaded, callable now: " + "; ".join(names)


def flat_tool_name(namespace: str, name: str) -> str:
    return f"{namespace}{NAMESPACE_SEPARATOR}{name}"


def call_tool_name(item: Mapping[str, Any]) -> str:
    """The name a replayed function call goes downstream under (flattened when namespaced)."""
    name = str(item.get("name") or "")
    namespace = item.get("namespace")
    return flat_tool_name(namespace, name) if isinstance(namespace, str) and namespace else name


def namespace_members(
    tool: Mapping[str, Any], warnings: list[str], api: str
) -> list[tuple[str, str, Mapping[str, Any]]]:
    """The function members of a `namespace` tool as (flat name, member name, member spec).

    Chat Completions and Messages have no namespaces: each member becomes a plain function
    named `<namespace>__<name>`, and calls to it are mapped back (`namespace` + `name`).
    """
    namespace = tool.get("name")
    members = tool.get("tools")
    if not isinstance(namespace, str) or not namespace or not isinstance(members, list):
        warnings.append(f"namespace tool without a name or tools was dropped ({api})")
        return []
    found: list[tuple[str, str, Mapping[str, Any]]] = []
    for member in members:
        if not isinstance(member, Mapping):
            continue
        name = member.get("name")
        if member.get("type", "function") != "function" or not isinstance(name, str) or not name:
            warnings.append(f"a member of namespace {namespace!r} is not a named function: dropped")
            continue
        found.append((flat_tool_name(namespace, name), name, member))
    return found


def hosted_tool_warning(tool: Mapping[str, Any], api: str) -> str:
    kind = tool.get("type") or "unknown"
    return (
        f"tool of type {kind!r} is hosted by the Responses API and cannot run behind the {api} "
        "downstream; it was not advertised to the model"
    )


def dropped_item_warning(item: Mapping[str, Any], api: str) -> str:
    return f"input item of type {item.get('type')!r} has no {api} equivalent and was dropped"


def item_kind(item: Mapping[str, Any]) -> str:
    """The item's type; an untyped item with a role is a message (the SDK's "easy" input form)."""
    kind = item.get("type")
    if isinstance(kind, str):
        return kind
    return "message" if "role" in item else ""


def content_parts(content: Any) -> list[Mapping[str, Any]]:
    """A message's content as a list of parts; a bare string is one text part."""
    if isinstance(content, str):
        return [{"type": "input_text", "text": content}]
    if isinstance(content, list):
        return [part for part in content if isinstance(part, Mapping)]
    return []


def part_text(part: Mapping[str, Any]) -> str | None:
    """The text of a text-like part (refusals included), or None for other parts."""
    if part.get("type") not in _TEXT_PART_TYPES:
        return None
    text = part.get("text", part.get("refusal"))
    return text if isinstance(text, str) else None


def joined_text(content: Any, separator: str = "\n\n") -> str:
    """All text of a message or tool output (string or parts), images and files left out."""
    texts = (part_text(part) for part in content_parts(content))
    return separator.join(text for text in texts if text)


def reasoning_item_text(item: Mapping[str, Any]) -> str:
    """The raw reasoning of a reasoning item, falling back to its summary when it has none."""
    for field in ("content", "summary"):
        parts = item.get(field)
        if isinstance(parts, list):
            texts = [str(p.get("text", "")) for p in parts if isinstance(p, Mapping)]
            text = "\n\n".join(t for t in texts if t)
            if text:
                return text
    return ""


def text_format(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The request's `text.format` object, when one asks for structured output."""
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if isinstance(fmt, Mapping) and fmt.get("type") in ("json_schema", "json_object"):
        return fmt
    return None
