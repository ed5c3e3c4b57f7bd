"""Checking a client's `POST /responses` body before anything is sent downstream.

Only what the server itself relies on is checked (a JSON object, a model, input items that are
objects, fields of the right JSON type); everything else passes through to the translators, which
already tolerate and report what they cannot carry. Every problem is a 400 with an OpenAI-style
error naming the parameter, as the real API answers.
"""

from __future__ import annotations

import json
from typing import Any

from pycodex.server.errors import ApiError

_BOOLEAN_FIELDS = ("stream", "store", "parallel_tool_calls")
_STRING_FIELDS = ("previous_response_id", "instructions")
_NUMBER_FIELDS = ("temperature", "top_p")


def parse_client_body(raw: bytes) -> dict[str, Any]:
    """The request body as a dict whose `input` is a list of item objects."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError.invalid_request(
            "We could not parse the JSON body of your request: it is not valid JSON.",
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise ApiError.invalid_request("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _missing_or_wrong("model", "a non-empty string", model)
    body["input"] = _input_items(body.get("input"))
    for key in _BOOLEAN_FIELDS:
        _check_type(body, key, bool, "a boolean")
    for key in _STRING_FIELDS:
        _check_type(body, key, str, "a string")
    for key in _NUMBER_FIELDS:
        _check_type(body, key, int | float, "a number")
    _check_type(body, "tools", list, "an array")
    _check_type(body, "metadata", dict, "an object")
    tokens = body.get("max_output_tokens")
    if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool)):
        raise _missing_or_wrong("max_output_tokens", "an integer", tokens)
    return body


def _input_items(value: Any) -> list[dict[str, Any]]:
    """`input` as items; the string form is one user message, as the API defines it."""
    if isinstance(value, str):
        content = [{"type": "input_text", "text": value}]
        return [{"type": "message", "role": "user", "content": content}]
    if not isinstance(value, list):
        raise _missing_or_wrong("input", "a string or an array of input items", value)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ApiError.invalid_request(
                f"Invalid value for 'input[{index}]': expected an object.",
                param=f"input[{index}]",
                code="invalid_type",
            )
        if not isinstance(item.get("type", "message" if "role" in item else None), str):
            raise ApiError.invalid_request(
                f"Missing required parameter: 'input[{index}].type'.",
                param=f"input[{index}].type",
                code="missing_required_parameter",
            )
    return value


def _check_type(body: dict[str, Any], key: str, kind: Any, wanted: str) -> None:
    value = body.get(key)
    if value is None:
        return
    wrong_bool = isinstance(value, bool) and kind is not bool
    if wrong_bool or not isinstance(value, kind):
        raise _missing_or_wrong(key, wanted, value)


def _missing_or_wrong(key: str, wanted: str, value: Any) -> ApiError:
    if value is None:
        return ApiError.invalid_request(
            f"Missing required parameter: '{key}'.", param=key, code="missing_required_parameter"
        )
    return ApiError.invalid_request(
        f"Invalid type for '{key}': expected {wanted}, but got {type(value).__name__}.",
        param=key,
        code="invalid_type",
    )
