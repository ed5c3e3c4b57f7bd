"""`POST /v1/responses`: one Responses request answered through the downstream model server.

Order of work: validate the body; put the stored conversation of `previous_response_id` in front
of the input; expand signed compaction items into summaries; translate for the downstream; run
the response (streamed as SSE, or collected and returned as one JSON object); then store it and
append it to the trajectory dump. An input that ends with a compaction marker is answered with
one compaction item instead (see `compaction`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from pycodex._records import dataclass, field
from pycodex.providers.stream_writer import Event
from pycodex.server.backend import Downstream, TranslatorSession
from pycodex.server.compaction import (
    compaction_marker,
    expand_compactions,
    sign_summary,
    summary_request,
)
from pycodex.server.errors import ApiError
from pycodex.server.http_server import HttpRequest, HttpResponder
from pycodex.server.pipeline import CollectingSink, SseSink, run_response
from pycodex.server.store import BrokenChain, ResponseStore, StoredResponse, with_item_ids
from pycodex.server.trajectory import TrajectoryLog, TrajectoryRecord
from pycodex.server.validation import parse_client_body

# Request fields a Responses server echoes on its response object.
_ECHOED_FIELDS = (
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "metadata",
    "temperature",
    "top_p",
    "previous_response_id",
)
_JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class ServeContext:
    """What every request handler shares. Holds the signing secret: never log it."""

    downstream: Downstream
    store: ResponseStore
    secret: bytes = field(repr=False)
    trajectory: TrajectoryLog | None = None
    keep_alive_s: float = 10.0


@dataclass
class _Exchange:
    """One request in flight: what was asked, and where its answer goes."""

    body: dict[str, Any]
    conversation: list[dict[str, Any]]
    response_id: str
    responder: HttpResponder
    started_at: float = field(default_factory=time.time)
    clock: float = field(default_factory=time.perf_counter)
    first_event_ms: float | None = None

    @property
    def streaming(self) -> bool:
        return self.body.get("stream") is True


async def handle_responses(
    ctx: ServeContext, request: HttpRequest, responder: HttpResponder
) -> None:
    body = parse_client_body(request.body)
    previous_id = body.get("previous_response_id")
    history = await _history(ctx.store, previous_id)
    exchange = _Exchange(body, [*history, *body["input"]], f"resp_{uuid.uuid4().hex}", responder)
    marker = compaction_marker(exchange.conversation)
    if marker is None:
        expanded = expand_compactions(ctx.secret, exchange.conversation)
        terminal, attempts = await _answer(ctx, exchange, {**body, "input": expanded})
    else:
        history_items = expand_compactions(ctx.secret, exchange.conversation[:-1])
        terminal, attempts = await _answer_compaction(
            ctx, exchange, marker, summary_request(body, history_items)
        )
    if body.get("store") is not False and terminal["type"] != "response.failed":
        stored = StoredResponse(
            exchange.response_id,
            previous_id,
            exchange.started_at,
            with_item_ids(body["input"]),
            terminal["response"],
            # Continuing from a compaction means continuing from its summary alone.
            restarts=marker is not None,
        )
        await ctx.store.put(stored)
    if ctx.trajectory is not None:
        await ctx.trajectory.append(_record(exchange, terminal, attempts))
    if not exchange.streaming:
        await _send_json(exchange.responder, terminal)


async def _history(store: ResponseStore, previous_id: str | None) -> list[dict[str, Any]]:
    if previous_id is None:
        return []
    try:
        conversation = await store.conversation(previous_id)
    except BrokenChain as err:
        raise ApiError(
            400,
            f"Previous response with id '{previous_id}' cannot be continued: an earlier "
            f"response of its conversation ('{err.missing_id}') expired or was deleted.",
            param="previous_response_id",
            code="previous_response_not_found",
        ) from None
    if conversation is None:
        raise ApiError(
            400,
            f"Previous response with id '{previous_id}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    return conversation


async def _answer(
    ctx: ServeContext, exchange: _Exchange, downstream_body: dict[str, Any]
) -> tuple[Event, int]:
    session, translated = _session(ctx.downstream, exchange, downstream_body)
    if not exchange.streaming:
        collected = CollectingSink()
        terminal, attempts = await run_response(ctx.downstream, translated, session, collected)
        _note_first_event(exchange)
        return terminal, attempts
    sink = _TimedSseSink(exchange, ctx.keep_alive_s)
    try:
        terminal, attempts = await run_response(ctx.downstream, translated, session, sink)
    finally:
        await sink.stop_heartbeat()
    await sink.close()
    return terminal, attempts


async def _answer_compaction(
    ctx: ServeContext, exchange: _Exchange, marker: str, summary_body: dict[str, Any]
) -> tuple[Event, int]:
    """Summarize with the downstream model, then answer with one signed compaction item.

    The summary is produced in full before the answer starts: the token signs the whole text.
    """
    session, translated = _session(ctx.downstream, exchange, summary_body)
    collected = CollectingSink()
    terminal, attempts = await run_response(ctx.downstream, translated, session, collected)
    response = terminal["response"]
    if terminal["type"] == "response.failed":
        error = response.get("error") or {}
        raise ApiError.from_code(str(error.get("code")), str(error.get("message")))
    summary = _output_text(response.get("output", []))
    if not summary:
        raise ApiError.from_code("model_output_invalid", "the model wrote an empty summary")
    item = {
        "id": f"cmp_{exchange.response_id.removeprefix('resp_')}",
        "type": marker,
        "encrypted_content": sign_summary(ctx.secret, summary),
    }
    final = {**response, "status": "completed", "output": [item], "incomplete_details": None}
    events = compaction_events(final, item)
    _note_first_event(exchange)
    if exchange.streaming:
        sink = SseSink(exchange.responder, 0, {"x-request-id": exchange.response_id})
        await sink.send(events)
        await sink.close()
    return events[-1], attempts


def compaction_events(final: Mapping[str, Any], item: Mapping[str, Any]) -> list[Event]:
    """The event sequence of a response whose only output is `item`, complete at once."""
    opening = {**final, "status": "in_progress", "output": [], "usage": None}
    events: list[Event] = [
        {"type": "response.created", "response": opening},
        {"type": "response.in_progress", "response": opening},
        {"type": "response.output_item.added", "output_index": 0, "item": dict(item)},
        {"type": "response.output_item.done", "output_index": 0, "item": dict(item)},
        {"type": "response.completed", "response": dict(final)},
    ]
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


class _TimedSseSink(SseSink):
    """An `SseSink` that notes when the first event left, for the trajectory's timing."""

    def __init__(self, exchange: _Exchange, keep_alive_s: float) -> None:
        super().__init__(exchange.responder, keep_alive_s, {"x-request-id": exchange.response_id})
        self._exchange = exchange

    async def send(self, events: list[Event]) -> None:
        if not self.started:
            _note_first_event(self._exchange)
        await super().send(events)


def _session(
    downstream: Downstream, exchange: _Exchange, request_body: dict[str, Any]
) -> tuple[TranslatorSession, dict[str, Any]]:
    translated = downstream.translate(request_body)
    session = downstream.new_session(
        exchange.response_id,
        exchange.body["model"],
        translated.custom_tool_names,
        created_at=int(exchange.started_at),
        response_fields={k: exchange.body[k] for k in _ECHOED_FIELDS if k in exchange.body},
        namespaced_tools=translated.namespaced_tools,
    )
    return session, translated.body


async def _send_json(responder: HttpResponder, terminal: Event) -> None:
    response = terminal["response"]
    if terminal["type"] == "response.failed":
        error = response.get("error") or {}
        raise ApiError.from_code(str(error.get("code")), str(error.get("message")))
    await responder.send(200, _json_bytes(response), _JSON)


def _output_text(output: list[dict[str, Any]]) -> str:
    texts = [
        str(part.get("text", ""))
        for item in output
        if item.get("type") == "message"
        for part in item.get("content", [])
        if isinstance(part, dict)
    ]
    return "\n\n".join(text for text in texts if text).strip()


def _note_first_event(exchange: _Exchange) -> None:
    if exchange.first_event_ms is None:
        exchange.first_event_ms = (time.perf_counter() - exchange.clock) * 1000


def _record(exchange: _Exchange, terminal: Event, attempts: int) -> TrajectoryRecord:
    return TrajectoryRecord(
        request=exchange.body,
        response=terminal["response"],
        started_at=exchange.started_at,
        first_event_ms=exchange.first_event_ms,
        duration_ms=(time.perf_counter() - exchange.clock) * 1000,
        attempts=attempts,
    )


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
