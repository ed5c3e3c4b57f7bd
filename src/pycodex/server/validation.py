"""Checking a client's `POST /responses` body before anything is sent downstream.

The body must be strict JSON (no `NaN` or `Infinity`, nested at most `MAX_JSON_DEPTH` deep) and
every field the server or the translators read must have the shape the Responses API gives it:
a wrong type, a value out of range, an input item or tool the server cannot carry is a 400 naming
the parameter (`input[2].call_id`, `tools[0].name`), in the OpenAI error shape, as the real API
answers. Nothing is silently changed or dropped, with one documented exception: hosted tools
(`web_search`, which Codex sends with every request, `file_search`...) and `web_search_call`
items (Codex replays them) are left out of the downstream request with a warning in the log.
The items and tools are checked in `input_validation`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pycodex.server.errors import (
    ApiError,
    check_type,
    invalid_value,
    missing,
    unsupported,
    wrong_type,
)
from pycodex.server.input_validation import check_input_items, check_tool_choice, check_tools

MAX_JSON_DEPTH = 128
"""Deeper bodies are refused: tool schemas nest a few dozen levels at most, and every JSON
encoder and walker after the parser would otherwise risk Python's recursion limit."""

_BOOLEAN_FIELDS = ("stream", "store", "parallel_tool_calls", "background")
_STRING_FIELDS = ("previous_response_id", "instructions", "prompt_cache_key", "user")
_OBJECT_FIELDS = ("metadata", "reasoning", "text", "client_metadata")
_RANGES = (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0))


def parse_client_body(raw: bytes) -> dict[str, Any]:
    """The request body as a dict whose `input` is a list of checked item objects."""
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ApiError.invalid_request("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise wrong_type("model", "a non-empty string", model)
    body["input"] = _input_items(body.get("input"))
    for key in _BOOLEAN_FIELDS:
        check_type(body.get(key), key, bool, "a boolean")
    for key in _STRING_FIELDS:
        check_type(body.get(key), key, str, "a string")
    for key in _OBJECT_FIELDS:
        check_type(body.get(key), key, dict, "an object")
    for key, low, high in _RANGES:
        _check_number(body.get(key), key, low, high)
    _check_max_output_tokens(body.get("max_output_tokens"))
    if body.get("background") is True:
        raise unsupported("background", "Background responses are not supported by this server.")
    check_input_items(body["input"])
    check_tools(body.get("tools"))
    check_tool_choice(body.get("tool_choice"))
    _check_reasoning(body.get("reasoning"))
    _check_text(body.get("text"))
    return body


def parse_json(raw: bytes) -> Any:
    """Strict JSON: NaN and Infinity are refused (naming where they were), so is deep nesting."""
    constants = _ConstantTrap()
    try:
        value = json.loads(raw, parse_constant=constants, parse_float=constants.number)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError.invalid_request(
            "We could not parse the JSON body of your request: it is not valid JSON.",
            code="invalid_json",
        ) from None
    if constants.seen:
        path = _path_of(value, lambda node: node is _NON_FINITE) or None
        where = f" in '{path}'" if path else ""
        raise ApiError.invalid_request(
            f"Invalid number{where}: NaN, Infinity and numbers beyond the float range are "
            "not accepted.",
            param=path,
            code="invalid_json",
        )
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise _too_deep()
    return value


class _NonFinite:
    """Stands in for NaN/Infinity (or a number too large to be finite) while parsing, so the
    error can say where it was."""


_NON_FINITE = _NonFinite()


class _ConstantTrap:
    def __init__(self) -> None:
        self.seen = False

    def __call__(self, name: str) -> _NonFinite:
        self.seen = True
        return _NON_FINITE

    def number(self, text: str) -> float | _NonFinite:
        """A float literal; one too large for a float (`1e400`) is Infinity in disguise."""
        value = float(text)
        return value if math.isfinite(value) else self(text)


def _too_deep() -> ApiError:
    return ApiError.invalid_request(
        f"The JSON body of your request is nested more than {MAX_JSON_DEPTH} levels deep.",
        code="invalid_json",
    )


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels (a walk without recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _path_of(value: Any, wanted: Any) -> str:
    """The parameter path (`input[0].content`) of the first node `wanted` accepts, or ""."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if wanted(node):
            return path
        if isinstance(node, dict):
            stack += [(v, f"{path}.{k}" if path else str(k)) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, f"{path}[{i}]") for i, v in enumerate(node)]
    return ""


def _input_items(value: Any) -> list[Any]:
    """`input` as items; the string form is one user message, as the API defines it."""
    if isinstance(value, str):
        content = [{"type": "input_text", "text": value}]
        return [{"type": "message", "role": "user", "content": content}]
    if not isinstance(value, list):
        raise wrong_type("input", "a string or an array of input items", value)
    return value


def _check_number(value: Any, key: str, low: float, high: float) -> None:
    if value is None:
        return
    check_type(value, key, int | float, "a number")
    if not low <= value <= high or not math.isfinite(value):
        code = "decimal_below_min_value" if value < low else "decimal_above_max_value"
        raise ApiError.invalid_request(
            f"Invalid '{key}': expected a number from {low:g} to {high:g}, but got {value}.",
            param=key,
            code=code,
        )


def _check_max_output_tokens(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise wrong_type("max_output_tokens", "an integer", value)
    if value < 1:
        raise ApiError.invalid_request(
            f"Invalid 'max_output_tokens': expected an integer of at least 1, but got {value}.",
            param="max_output_tokens",
            code="integer_below_min_value",
        )


def _check_reasoning(reasoning: Any) -> None:
    if isinstance(reasoning, dict):
        for key in ("effort", "summary"):
            check_type(reasoning.get(key), f"reasoning.{key}", str, "a string")


def _check_text(text: Any) -> None:
    if not isinstance(text, dict):
        return
    fmt = text.get("format")
    if fmt is None:
        return
    check_type(fmt, "text.format", dict, "an object")
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise invalid_value("text.format.type", kind, "'text', 'json_object' or 'json_schema'")
    if kind == "json_schema":
        schema = fmt.get("schema")
        if schema is None:
            raise missing("text.format.schema")
        check_type(schema, "text.format.schema", dict, "an object")
        check_type(fmt.get("name"), "text.format.name", str, "a string")
        check_type(fmt.get("strict"), "text.format.strict", bool, "a boolean")
