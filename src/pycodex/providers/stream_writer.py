"""Writes the OpenAI Responses streaming events of one response, as plain JSON-ready dicts.

Downstream translators (Chat Completions, Anthropic Messages) parse their own wire format and call
this writer with what they saw: a piece of text, of reasoning, of a tool call. The writer owns the
Responses side: item ids and output indices, the added → deltas → done lifecycle of every item
(with `response.content_part.*` and `*.done` events the real API sends), `sequence_number` from 0,
and the terminal `response.completed` / `response.incomplete` / `response.failed`. The events are
the exact payloads a Responses server sends, so the native client feeds them to
`client.responses_stream.translate_event` and the compat server writes them out as SSE.

Reasoning is held back until the response produces something else (text or a tool call). A turn
that ends with reasoning only is then invisible to the consumer, so the caller can drop it and
retry (`discard_attempt`) without anyone having recorded a bare reasoning item.

Message and reasoning items close as soon as another item starts; tool calls stay open until the
end because Chat Completions interleaves the argument deltas of parallel calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pycodex._records import dataclass, field
from pycodex.providers.common import CLIENT_TOOL_SEARCH, unwrap_custom_input

Event = dict[str, Any]
ItemKind = Literal["message", "reasoning", "function_call", "custom_tool_call", "tool_search_call"]

_ID_PREFIX: dict[ItemKind, str] = {
    "message": "msg",
    "reasoning": "rs",
    "function_call": "fc",
    "custom_tool_call": "ctc",
    "tool_search_call": "tsc",
}


def responses_usage(
    input_tokens: int,
    cached_tokens: int,
    output_tokens: int,
    reasoning_tokens: int,
    cache_write_tokens: int = 0,
) -> dict[str, Any]:
    """A Responses `usage` object (`input_tokens` includes the cached and cache-write tokens)."""
    details = {"cached_tokens": cached_tokens, "cache_write_tokens": cache_write_tokens}
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": details,
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


def failed_event(
    code: str, message: str, response_id: str, sequence_number: int = 0, model: str = ""
) -> Event:
    """A standalone `response.failed` event (e.g. when the downstream refused before streaming)."""
    response = _response_object(response_id, model, 0, "failed")
    response["error"] = {"code": code, "message": message}
    return {"type": "response.failed", "response": response, "sequence_number": sequence_number}


def _response_object(response_id: str, model: str, created_at: int, status: str) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": [],
        "usage": None,
        # Echoes of the request that the SDK's `Response` type requires; the compat server
        # passes the real values through `response_fields`.
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


@dataclass(slots=True)
class _Item:
    kind: ItemKind
    item_id: str
    output_index: int
    call_id: str = ""
    name: str = ""
    namespace: str | None = None
    pieces: list[str] = field(default_factory=list)
    signature: str | None = None
    closed: bool = False

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def where(self) -> Event:
        return {"item_id": self.item_id, "output_index": self.output_index}

    def wire(self, status: str) -> dict[str, Any]:
        """The item as `output_item.added` (status in_progress) or `.done` carries it."""
        text = self.text if status != "in_progress" else ""
        match self.kind:
            case "message":
                content = [{"type": "output_text", "text": text, "annotations": []}]
                return {
                    "id": self.item_id,
                    "type": "message",
                    "status": status,
                    "role": "assistant",
                    "content": content if status != "in_progress" else [],
                }
            case "reasoning":
                item: dict[str, Any] = {"id": self.item_id, "type": "reasoning", "summary": []}
                item["content"] = [{"type": "reasoning_text", "text": text}] if text else []
                if self.signature is not None and status != "in_progress":
                    item["encrypted_content"] = self.signature
                return item
            case "function_call":
                call: dict[str, Any] = {
                    "id": self.item_id,
                    "type": "function_call",
                    "status": status,
                    "call_id": self.call_id,
                }
                if self.namespace is not None:
                    call["namespace"] = self.namespace
                return call | {"name": self.name, "arguments": text}
            case "tool_search_call":
                return {
                    "id": self.item_id,
                    "type": "tool_search_call",
                    "status": status,
                    "call_id": self.call_id,
                    "execution": "client",
                    "arguments": _json_object(text) if status != "in_progress" else {},
                }
            case "custom_tool_call":
                unwrapped = unwrap_custom_input(text) if status != "in_progress" else ""
                return {
                    "id": self.item_id,
                    "type": "custom_tool_call",
                    "status": status,
                    "call_id": self.call_id,
                    "name": self.name,
                    "input": unwrapped,
                }


class ResponsesStreamWriter:
    """The Responses event stream of one response, built from downstream observations."""

    def __init__(
        self,
        response_id: str,
        model: str,
        *,
        created_at: int = 0,
        response_fields: Mapping[str, Any] | None = None,
        namespaced_tools: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.response_id = response_id
        # Flattened namespace members (`ns__name` -> (ns, name)): their calls go out namespaced.
        self._namespaced = dict(namespaced_tools or {})
        self.model = model
        self._created_at = created_at
        self._response_fields = dict(response_fields or {})
        self._id_base = response_id.removeprefix("resp_")
        self._sequence = 0
        self._finished = False
        self.discard_attempt()

    def discard_attempt(self) -> None:
        """Forget this attempt's output (never shown: see the module docstring) to retry it."""
        self._items: list[_Item] = []
        self._calls: dict[object, _Item] = {}
        self._text: _Item | None = None
        self._reasoning: _Item | None = None
        self._held: list[Event] | None = []

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def reasoning_only(self) -> bool:
        """Reasoning came, but neither text nor a tool call did."""
        kinds = {item.kind for item in self._items}
        return kinds == {"reasoning"}

    def new_call_id(self) -> str:
        """A call id for downstreams that do not send one."""
        return f"call_{self._id_base}_{len(self._items)}"

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> list[Event]:
        return self._stamp(
            [
                {"type": "response.created", "response": self._response("in_progress")},
                {"type": "response.in_progress", "response": self._response("in_progress")},
            ]
        )

    def complete(
        self, usage: dict[str, Any] | None, incomplete_reason: str | None = None
    ) -> list[Event]:
        """Close every open item and end with `response.completed` (or `.incomplete`)."""
        if self._finished:
            return []
        status = "incomplete" if incomplete_reason else "completed"
        events = self._close_open(status)
        response = self._response(status)
        response["output"] = [item.wire(_item_status(item, status)) for item in self._items]
        response["usage"] = usage
        if incomplete_reason:
            response["incomplete_details"] = {"reason": incomplete_reason}
        events.append({"type": f"response.{status}", "response": response})
        self._finished = True
        return self._release(events)

    def fail(self, code: str, message: str) -> list[Event]:
        """End with `response.failed`; held reasoning is dropped, open items stay unfinished."""
        if self._finished:
            return []
        self._finished = True
        self._held = None
        response = self._response("failed")
        response["output"] = [item.wire("completed") for item in self._items if item.closed]
        response["error"] = {"code": code, "message": message}
        return self._stamp([{"type": "response.failed", "response": response}])

    # --- text and reasoning -----------------------------------------------------------------

    def text_delta(self, delta: str) -> list[Event]:
        if not delta or self._finished:
            return []
        events: list[Event] = []
        if self._text is None:
            events += self._close_reasoning()
            self._text = self._open("message")
            events.append(self._added(self._text))
            events.append(self._part_event("added", self._text, "output_text"))
        self._text.pieces.append(delta)
        events.append(self._delta("response.output_text.delta", self._text, delta, text=True))
        return self._release(events)

    def reasoning_delta(self, delta: str) -> list[Event]:
        if not delta or self._finished:
            return []
        events = self._ensure_reasoning()
        assert self._reasoning is not None
        self._reasoning.pieces.append(delta)
        events.append(self._delta("response.reasoning_text.delta", self._reasoning, delta))
        return self._hold_or_release(events)

    def reasoning_signature(self, signature: str) -> list[Event]:
        """Keep an opaque reasoning signature; it is sent as the item's `encrypted_content`."""
        if self._finished:
            return []
        events = self._ensure_reasoning()
        assert self._reasoning is not None
        self._reasoning.signature = (self._reasoning.signature or "") + signature
        return self._hold_or_release(events)

    def close_text(self) -> list[Event]:
        return self._release(self._close_text("completed"))

    def close_reasoning(self) -> list[Event]:
        return self._hold_or_release(self._close_reasoning())

    # --- tool calls -------------------------------------------------------------------------

    def begin_tool_call(self, key: object, call_id: str, name: str, custom: bool) -> list[Event]:
        """Open a tool call item, remembered under `key` for its later deltas."""
        if self._finished:
            return []
        events = self._close_text("completed") + self._close_reasoning()
        target = None if custom else self._namespaced.get(name)
        if target == CLIENT_TOOL_SEARCH:
            item = self._open("tool_search_call")
        else:
            item = self._open("custom_tool_call" if custom else "function_call")
        item.call_id, item.name = call_id, name
        if target is not None and target != CLIENT_TOOL_SEARCH:
            item.namespace, item.name = target
        self._calls[key] = item
        events.append(self._added(item))
        return self._release(events)

    def tool_call_delta(self, key: object, delta: str) -> list[Event]:
        item = self._calls.get(key)
        if item is None or item.closed or not delta or self._finished:
            return []
        item.pieces.append(delta)
        if item.kind != "function_call":
            # A wrapped input (or tool search arguments) is JSON until it is complete; the item
            # carries it whole at close.
            return []
        return self._release(
            [self._delta("response.function_call_arguments.delta", item, delta, text=False)]
        )

    def close_tool_call(self, key: object) -> list[Event]:
        item = self._calls.get(key)
        if item is None or item.closed or self._finished:
            return []
        return self._release(self._close_item(item, "completed"))

    # --- internals --------------------------------------------------------------------------

    def _response(self, status: str) -> dict[str, Any]:
        response = _response_object(self.response_id, self.model, self._created_at, status)
        response.update(self._response_fields)
        return response

    def _open(self, kind: ItemKind) -> _Item:
        index = len(self._items)
        item = _Item(kind, f"{_ID_PREFIX[kind]}_{self._id_base}_{index}", index)
        self._items.append(item)
        return item

    def _ensure_reasoning(self) -> list[Event]:
        if self._reasoning is not None:
            return []
        events = self._close_text("completed")
        self._reasoning = self._open("reasoning")
        events.append(self._added(self._reasoning))
        events.append(self._part_event("added", self._reasoning, "reasoning_text"))
        return events

    def _added(self, item: _Item) -> Event:
        where = {"output_index": item.output_index}
        return {"type": "response.output_item.added", **where, "item": item.wire("in_progress")}

    def _part_event(self, phase: str, item: _Item, part_type: str) -> Event:
        part: dict[str, Any] = {"type": part_type, "text": item.text if phase == "done" else ""}
        if part_type == "output_text":
            part["annotations"] = []
        where = {**item.where(), "content_index": 0}
        return {"type": f"response.content_part.{phase}", **where, "part": part}

    def _delta(self, kind: str, item: _Item, delta: str, *, text: bool = False) -> Event:
        event: Event = {"type": kind, **item.where()}
        if kind != "response.function_call_arguments.delta":
            event["content_index"] = 0
        event["delta"] = delta
        if text:
            event["logprobs"] = []
        return event

    def _close_text(self, status: str) -> list[Event]:
        item, self._text = self._text, None
        return self._close_item(item, status) if item is not None else []

    def _close_reasoning(self) -> list[Event]:
        item, self._reasoning = self._reasoning, None
        return self._close_item(item, "completed") if item is not None else []

    def _close_open(self, status: str) -> list[Event]:
        """Close every open item in output order (a message may follow still-open calls)."""
        self._text = self._reasoning = None
        events: list[Event] = []
        for item in self._items:
            if not item.closed:
                events += self._close_item(item, status)
        return events

    def _close_item(self, item: _Item, status: str) -> list[Event]:
        item.closed = True
        events: list[Event] = []
        if item.kind == "function_call" and not item.pieces:
            # A call without arguments still gets a delta, so the deltas add up to the done text.
            item.pieces.append("{}")
            events.append(self._delta("response.function_call_arguments.delta", item, "{}"))
        events += _closing_events(item)
        done = item.wire(_item_status(item, status))
        where = {"output_index": item.output_index}
        events.append({"type": "response.output_item.done", **where, "item": done})
        return events

    def _hold_or_release(self, events: list[Event]) -> list[Event]:
        if self._held is not None:
            self._held += events
            return []
        return self._stamp(events)

    def _release(self, events: list[Event]) -> list[Event]:
        held, self._held = self._held or [], None
        return self._stamp(held + events)

    def _stamp(self, events: list[Event]) -> list[Event]:
        for event in events:
            event["sequence_number"] = self._sequence
            self._sequence += 1
        return events


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _item_status(item: _Item, status: str) -> str:
    # Reasoning finished before whatever cut the response short, so it stays complete.
    return "completed" if item.kind == "reasoning" else status


def _closing_events(item: _Item) -> list[Event]:
    """The `*.done` events that precede an item's `output_item.done`."""
    where = item.where()
    text = item.text
    match item.kind:
        case "message":
            part = {"type": "output_text", "text": text, "annotations": []}
            done = {"type": "response.output_text.done", **where, "content_index": 0, "text": text}
            return [
                {**done, "logprobs": []},
                {"type": "response.content_part.done", **where, "content_index": 0, "part": part},
            ]
        case "reasoning":
            part = {"type": "reasoning_text", "text": text}
            return [
                {"type": "response.reasoning_text.done", **where, "content_index": 0, "text": text},
                {"type": "response.content_part.done", **where, "content_index": 0, "part": part},
            ]
        case "function_call":
            done = {"type": "response.function_call_arguments.done", **where, "name": item.name}
            return [{**done, "arguments": text}]
        case "custom_tool_call":
            raw = unwrap_custom_input(text)
            done = {"type": "response.custom_tool_call_input.done", **where, "input": raw}
            if not raw:
                return [done]
            return [{"type": "response.custom_tool_call_input.delta", **where, "delta": raw}, done]
        case "tool_search_call":
            return []
