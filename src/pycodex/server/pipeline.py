"""One response from downstream stream to client: attempts, the reasoning-only rule, the sinks.

`run_response` drives a `TranslatorSession` over the downstream's events and hands every batch of
Responses events to a sink as soon as it exists (streaming passthrough; nothing is buffered beyond
what the translator holds back). Failures before the first event raise `ApiError`, so the route
can answer with an HTTP error; after it they end the stream with `response.failed`.

The reasoning-only rule: a downstream answer with reasoning and nothing else is never shown. The
translator held its events back, so the same downstream request is sent once more in silence;
a second reasoning-only answer fails with `model_output_invalid`.

Sinks: `SseSink` writes SSE frames to an HTTP stream with keep-alive comments while the
translator has nothing to say; `CollectingSink` keeps the events for a non-streaming answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from pycodex.client.sse import SSEEvent
from pycodex.providers.stream_writer import Event
from pycodex.server.backend import Downstream, TranslatorSession
from pycodex.server.errors import ApiError
from pycodex.server.http_server import HttpResponder

logger = logging.getLogger("pycodex.server")

TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_KEEP_ALIVE = b": keep-alive\n\n"
_CUT_MESSAGE = "the model server closed the stream before the response was complete"
_REASONING_ONLY_MESSAGE = (
    "the model answered with reasoning only (no message, no tool call), twice in a row"
)


class EventSink(Protocol):
    started: bool
    terminal: Event | None

    async def send(self, events: list[Event]) -> None: ...

    async def idle(self) -> None:
        """The downstream spoke but produced no client event (e.g. held-back reasoning)."""
        ...


class CollectingSink:
    def __init__(self) -> None:
        self.started = False
        self.terminal: Event | None = None
        self.events: list[Event] = []

    async def send(self, events: list[Event]) -> None:
        self.started = True
        self.events += events
        self.terminal = _terminal_of(events) or self.terminal

    async def idle(self) -> None:
        return None


class SseSink:
    """Responses events as `event: {type}\\ndata: {json}\\n\\n` frames on an HTTP stream.

    A client gives up on a stream that stays silent for its idle timeout, while a reasoning model
    can think (events held back) or a server can prefill a long prompt for minutes. So a comment
    line goes out whenever nothing was written for `keep_alive_s`: on every event-less downstream
    chunk, and from a heartbeat task while the downstream is silent altogether.
    """

    def __init__(
        self, responder: HttpResponder, keep_alive_s: float, headers: Mapping[str, str]
    ) -> None:
        self.started = False
        self.terminal: Event | None = None
        self._responder = responder
        self._keep_alive_s = keep_alive_s
        self._headers = dict(headers)
        self._heartbeat: asyncio.Task[None] | None = None

    async def send(self, events: list[Event]) -> None:
        if not self.started:
            await self._open()
        if events:
            self._responder.write(b"".join(encode_event(event) for event in events))
            await self._responder.drain()
        self.terminal = _terminal_of(events) or self.terminal

    async def idle(self) -> None:
        if self.started and self._responder.idle_seconds >= self._keep_alive_s:
            self._responder.write(_KEEP_ALIVE)
            await self._responder.drain()

    async def stop_heartbeat(self) -> None:
        """Always called, also when the client went away, so no task outlives its stream."""
        task, self._heartbeat = self._heartbeat, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """End the stream (the terminal event was sent)."""
        await self.stop_heartbeat()
        if self.started:
            await self._responder.close_stream()

    async def _open(self) -> None:
        self.started = True
        headers = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
        await self._responder.open_stream(200, {**headers, **self._headers})
        if self._keep_alive_s > 0:
            self._heartbeat = asyncio.create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._keep_alive_s)
            if self._responder.idle_seconds >= self._keep_alive_s:
                # A whole-frame write between two of the pump's writes: frames never interleave.
                self._responder.write(_KEEP_ALIVE)


def encode_event(event: Mapping[str, Any]) -> bytes:
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


async def run_response(
    downstream: Downstream, body: Mapping[str, Any], session: TranslatorSession, sink: EventSink
) -> tuple[Event, int]:
    """Run one response to its terminal event; returns it and the number of downstream attempts."""
    translator = session.translator
    for attempt in (1, 2):
        try:
            async with downstream.stream(body) as events:
                if attempt == 1:
                    await sink.send(translator.start())
                done = await _pump(events, session, sink)
        except ApiError as err:
            if not sink.started:
                raise
            failed = translator.fail(err.code or "server_error", err.message)
            return await _end(sink, failed), attempt
        if translator.finished:  # the downstream reported an error inside its stream
            return _require_terminal(sink), attempt
        if not done:
            return await _end(sink, translator.fail("server_error", _CUT_MESSAGE)), attempt
        if not translator.reasoning_only:
            return await _end(sink, translator.finish()), attempt
        if attempt == 1:
            logger.info("reasoning-only answer discarded; asking the model once more")
            translator.retry()
    failed = translator.fail("model_output_invalid", _REASONING_ONLY_MESSAGE)
    return await _end(sink, failed), 2


async def _pump(
    events: AsyncIterator[SSEEvent], session: TranslatorSession, sink: EventSink
) -> bool:
    """Feed downstream events through; True when the downstream said it was done."""
    async for event in events:
        out, done = session.feed(event)
        if out:
            await sink.send(out)
        else:
            await sink.idle()
        if done or session.translator.finished:
            return done
    return False


async def _end(sink: EventSink, events: list[Event]) -> Event:
    await sink.send(events)
    return _require_terminal(sink)


def _require_terminal(sink: EventSink) -> Event:
    if sink.terminal is None:
        raise RuntimeError("the translator ended a response without a terminal event")
    return sink.terminal


def _terminal_of(events: list[Event]) -> Event | None:
    for event in reversed(events):
        if event.get("type") in TERMINAL_EVENTS:
            return event
    return None
