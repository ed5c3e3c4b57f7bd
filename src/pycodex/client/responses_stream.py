"""Responses API SSE events → internal response events (a pure, per-event translation).

The wire vocabulary is wide (`response.content_part.added`, `response.output_text.done`, ...);
only the events that carry something the engine needs are translated, the rest are skipped.
`response.failed` and `response.incomplete` become errors. An event that cannot be used (its
data is not JSON, its item fails validation) raises `MalformedEvent`; `event_from_sse` turns
that into a `StreamWarning` and the stream goes on, as upstream Codex skips such events.
"""

from __future__ import annotations

import json
from typing import Any

from pycodex.client.classify import classify_failed_event
from pycodex.client.sse import SSEEvent
from pycodex.protocol.errors import ModelError
from pycodex.protocol.items import ItemValidationError, parse_item
from pycodex.protocol.response_events import (
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    ReasoningSummaryDelta,
    ReasoningTextDelta,
    ResponseCompleted,
    ResponseCreated,
    ResponseEvent,
    StreamWarning,
    ToolCallInputDelta,
)
from pycodex.protocol.usage import TokenUsage

TERMINAL_EVENTS = frozenset({"response.completed", "response.failed", "response.incomplete"})


class MalformedEvent(ValueError):
    """An event that cannot be used; its message says which and why, in one line."""


def decode_event_data(name: str, data: str) -> dict[str, Any] | None:
    """The JSON payload of one SSE event, or None for keep-alives and non-objects; raises
    `MalformedEvent` when the data is not JSON."""
    if not data or data == "[DONE]":
        return None
    try:
        payload = json.loads(data)
    except ValueError as err:
        raise MalformedEvent(
            f"skipped a malformed {name!r} event from the model server: {err}"
        ) from None
    return payload if isinstance(payload, dict) else None


def translate_event(payload: dict[str, Any]) -> ResponseEvent | None:
    """One decoded SSE payload → at most one internal event; raises on failure events, and
    `MalformedEvent` when an item in it fails validation."""
    kind = payload.get("type")
    try:
        return _translate(kind, payload)
    except ItemValidationError as err:
        raise MalformedEvent(
            f"skipped a malformed {kind} event from the model server: {err}"
        ) from None


def event_from_sse(sse: SSEEvent) -> tuple[ResponseEvent | None, bool]:
    """The internal event of one Responses SSE event (a `StreamWarning` for a malformed one),
    and whether it ended the response (`response.completed`, ...: failures raise)."""
    try:
        payload = decode_event_data(sse.event, sse.data)
        if payload is None:
            return None, False
        return translate_event(payload), payload.get("type") in TERMINAL_EVENTS
    except MalformedEvent as err:
        return StreamWarning(str(err)), False


def _translate(kind: Any, payload: dict[str, Any]) -> ResponseEvent | None:
    match kind:
        case "response.created":
            return ResponseCreated(response_id=_response(payload).get("id"))
        case "response.output_item.added":
            return OutputItemAdded(parse_item(payload.get("item")))
        case "response.output_item.done":
            return OutputItemDone(parse_item(payload.get("item")))
        case "response.output_text.delta":
            return OutputTextDelta(payload.get("item_id"), str(payload.get("delta", "")))
        case "response.reasoning_summary_text.delta":
            index = payload.get("summary_index", 0)
            return ReasoningSummaryDelta(
                payload.get("item_id"),
                str(payload.get("delta", "")),
                index if isinstance(index, int) else 0,
            )
        case "response.reasoning_text.delta":
            return ReasoningTextDelta(payload.get("item_id"), str(payload.get("delta", "")))
        case "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta":
            return ToolCallInputDelta(payload.get("item_id"), str(payload.get("delta", "")))
        case "response.completed":
            response = _response(payload)
            usage = response.get("usage")
            return ResponseCompleted(
                response_id=response.get("id"),
                usage=TokenUsage.from_wire(usage) if isinstance(usage, dict) else None,
            )
        case "response.incomplete":
            raise _incomplete_error(_response(payload))
        case "response.failed":
            error = _response(payload).get("error") or payload.get("error") or {}
            raise classify_failed_event(error if isinstance(error, dict) else {})
        case _:
            return None


def _response(payload: dict[str, Any]) -> dict[str, Any]:
    response = payload.get("response")
    return response if isinstance(response, dict) else {}


def _incomplete_error(response: dict[str, Any]) -> ModelError:
    details = response.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    return ModelError(f"Incomplete response returned, reason: {reason or 'unknown'}")
