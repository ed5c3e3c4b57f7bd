"""Downstream failures → Responses error codes (`response.failed.error.code`).

Both the native client and the compat server turn a downstream failure into the error a Responses
server would have sent, so one classification in `pycodex.client` (and in every Responses client)
handles all three wire APIs. Model servers word a full context window differently:

    vLLM       400 "This model's maximum context length is N tokens. However, you requested M
               tokens (X in the messages, Y in the completion). ..."
    llama.cpp  400 {"error": {"type": "exceed_context_size_error", "message": "the request
               exceeds the available context size, ..."}}
    Anthropic  400 invalid_request_error "prompt is too long: N tokens > M maximum"
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

DownstreamApi = Literal["chat", "messages"]

_CONTEXT_WORDING = re.compile(
    r"maximum context length|exceeds? the available context size|exceed_context_size"
    r"|context[ _-]length[ _-]exceeded|prompt is too long|context window"
    r"|input length exceeds|too many tokens",
    re.IGNORECASE,
)
_MESSAGE_LIMIT = 2000

# Anthropic's error `type`s (HTTP body and in-stream `error` events) with a Responses equivalent.
_ANTHROPIC_CODES = {
    "overloaded_error": "server_is_overloaded",
    "rate_limit_error": "rate_limit_exceeded",
    "api_error": "server_error",
    "authentication_error": "invalid_api_key",
    "permission_error": "permission_denied",
    "invalid_request_error": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "not_found_error": "invalid_request_error",
}


def classify_downstream_http_error(
    status: int, body_text: str, api: DownstreamApi
) -> tuple[str, str]:
    """The Responses error code and message for a downstream HTTP error response."""
    kind, message = _error_fields(body_text)
    if _is_context_overflow(kind, message):
        return "context_length_exceeded", message
    if status == 401:
        return "invalid_api_key", message
    if status == 403:
        return "permission_denied", message
    if status == 429:
        quota = kind == "insufficient_quota"
        return ("insufficient_quota" if quota else "rate_limit_exceeded"), message
    if api == "messages" and status == 529:
        return "server_is_overloaded", message
    if status >= 500:
        return "server_error", message
    return "invalid_request_error", message


def classify_stream_error(error: Mapping[str, Any], api: DownstreamApi) -> tuple[str, str]:
    """The Responses error code and message for an error reported inside a downstream stream.

    Anthropic sends `event: error` with `{"error": {"type", "message"}}`; vLLM and others put an
    OpenAI-style `{"error": {...}}` (or a bare `{"object": "error", ...}`) in a data chunk.
    """
    inner = error.get("error")
    fields: Mapping[str, Any] = inner if isinstance(inner, Mapping) else error
    kind = _first_str(fields, "type", "code")
    message = _trimmed(_first_str(fields, "message") or "the model server reported an error")
    if _is_context_overflow(kind, message):
        return "context_length_exceeded", message
    if api == "messages" and kind in _ANTHROPIC_CODES:
        return _ANTHROPIC_CODES[kind], message
    status = fields.get("code")
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status < 600:
        return classify_downstream_http_error(status, json.dumps({"error": fields}), api)
    return "server_error", message


def _is_context_overflow(kind: str | None, message: str) -> bool:
    return kind in ("context_length_exceeded", "exceed_context_size_error") or bool(
        _CONTEXT_WORDING.search(message)
    )


def _error_fields(body_text: str) -> tuple[str | None, str]:
    """The error type/code and message of an error body in any of the shapes servers use."""
    try:
        data: Any = json.loads(body_text)
    except ValueError:
        return None, _trimmed(body_text.strip() or "no error message")
    if not isinstance(data, Mapping):
        return None, _trimmed(body_text.strip())
    inner = data.get("error")
    if isinstance(inner, str):
        return None, _trimmed(inner)
    fields: Mapping[str, Any] = inner if isinstance(inner, Mapping) else data
    kind = _first_str(fields, "code", "type")
    return kind, _trimmed(_first_str(fields, "message", "detail") or body_text.strip())


def _first_str(fields: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _trimmed(message: str) -> str:
    # Error pages (HTML from a proxy) can be huge; the start says what went wrong.
    return message if len(message) <= _MESSAGE_LIMIT else message[:_MESSAGE_LIMIT] + "…"
