"""The compat server's HTTP/1.1 connections, framed by `h11` (the state machine under uvicorn).

h11 parses every byte that comes in and frames every byte that goes out; this module only moves
bytes between it and an asyncio stream, and applies the server's limits:

- Requests: a body framed by `Content-Length` or by chunked transfer encoding, up to
  `max_body_bytes` (413 beyond); request heads up to `MAX_HEAD_BYTES` (431 beyond). A malformed
  request (a bad request line, a `Content-Length` that is not ASCII digits, two conflicting
  lengths, a length beside chunked encoding...) gets a 400 and the connection closes.
  `Expect: 100-continue` is answered when the body is first read, so curl does not stall for a
  second on large bodies.
- Responses: a whole body with `Content-Length` (`HttpResponder.send`), or a stream (`open_stream`,
  `write`, `drain`, `close_stream`) that h11 frames with chunked encoding, or, for an HTTP/1.0
  client, delimits by closing the connection.
- Connections persist by the HTTP/1.1 rules (h11 decides: `Connection: close`, HTTP/1.0 without
  keep-alive, a body left unread); an idle one is closed after `idle_timeout_s`, and so is one
  whose next request does not arrive whole within that time.

A handler that fails before answering gets a 500; one that fails mid-stream has its connection
dropped, which the client sees as a cut stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus

import h11

from pycodex._records import dataclass

logger = logging.getLogger("pycodex.server")

MAX_HEAD_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
_READ_SIZE = 64 * 1024
_FLUSH_BYTES = 64 * 1024  # a stream piece this large goes out at once
_VERSIONS = {b"1.1": "HTTP/1.1", b"1.0": "HTTP/1.0"}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    query: str
    version: str
    headers: Mapping[str, str]
    """Lower-case names; repeated headers are joined with ", "."""
    body: bytes


class BadRequest(Exception):
    """The bytes on the connection are not a request this server accepts."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Handler = Callable[[HttpRequest, "HttpResponder"], Awaitable[None]]


class HttpResponder:
    """Writes the one response to one request through the connection's h11 state machine.

    A stream's pieces are gathered and handed to the socket once per event-loop turn: the events
    translated from one read of the downstream leave in one send, not one send each. On loopback
    a send costs far more than framing (each one wakes the reader), and nothing waits longer: the
    flush runs as soon as the handler next waits for the downstream.
    """

    def __init__(self, conn: h11.Connection, writer: asyncio.StreamWriter) -> None:
        self._conn = conn
        self._writer = writer
        self.keep_alive = True
        """Set to False before the response starts to close the connection after it."""
        self.status: int | None = None
        self._last_write = time.monotonic()
        self._framed: list[bytes] = []  # bytes h11 produced, not yet given to the socket
        self._body: list[bytes] = []  # stream pieces not yet framed
        self._body_size = 0
        self._flush_handle: asyncio.Handle | None = None

    @property
    def started(self) -> bool:
        return self.status is not None

    @property
    def idle_seconds(self) -> float:
        """Time since bytes were last written; the keep-alive heartbeat reads it."""
        return time.monotonic() - self._last_write

    async def send(
        self, status: int, body: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        fields = {**(headers or {}), "content-length": str(len(body))}
        self._send(self._head(status, fields))
        if body:
            self._send(h11.Data(data=body))
        self._send(h11.EndOfMessage())
        self.flush()
        await self._writer.drain()

    async def open_stream(self, status: int, headers: Mapping[str, str] | None = None) -> None:
        """Start a body of unknown length: chunked for HTTP/1.1, close-delimited for HTTP/1.0."""
        self._send(self._head(status, dict(headers or {})))
        self._schedule_flush()

    def write(self, data: bytes) -> None:
        """Queue one piece of a stream; `drain` applies back-pressure from a slow client."""
        if data:
            self._body.append(data)
            self._body_size += len(data)
            self._last_write = time.monotonic()
            self._schedule_flush()

    async def drain(self) -> None:
        if self._body_size >= _FLUSH_BYTES:
            self.flush()
        await self._writer.drain()

    async def close_stream(self) -> None:
        self._frame_body()
        self._send(h11.EndOfMessage())
        self.flush()
        await self._writer.drain()

    def flush(self) -> None:
        """Hand everything queued to the socket now."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._frame_body()
        if self._framed:
            data = b"".join(self._framed)
            self._framed.clear()
            self._writer.write(data)

    def _schedule_flush(self) -> None:
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self.flush)

    def _frame_body(self) -> None:
        if self._body:
            data = b"".join(self._body)
            self._body.clear()
            self._body_size = 0
            self._send(h11.Data(data=data))

    def _head(self, status: int, headers: dict[str, str]) -> h11.Response:
        self.status = status
        self._last_write = time.monotonic()
        if not self.keep_alive:
            headers["connection"] = "close"
        reason = _phrase(status).encode("ascii")
        return h11.Response(status_code=status, headers=list(headers.items()), reason=reason)

    def _send(self, event: h11.Event) -> None:
        data = self._conn.send(event)
        if data:
            self._framed.append(data)


def new_connection() -> h11.Connection:
    """The server side of one HTTP/1.1 connection, for callers that read one request with
    `read_request` and answer it with an `HttpResponder` themselves (the batch's proxy)."""
    return h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    *,
    idle_timeout_s: float = 75.0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> None:
    """Answer requests on one connection until either side ends it."""
    conn = new_connection()
    try:
        while True:
            try:
                async with asyncio.timeout(idle_timeout_s):
                    request = await read_request(conn, reader, writer, max_body_bytes)
            except BadRequest as err:
                await refuse(conn, writer, err)
                return
            if request is None:
                return
            responder = HttpResponder(conn, writer)
            await _run_handler(handler, request, responder)
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return  # h11 says the connection must close (or the body was left unread)
            conn.start_next_cycle()
    except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        return  # an idle or vanished client: nothing to answer
    finally:
        writer.close()
        # A peer that already hung up makes the close handshake fail; there is nobody to tell.
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def refuse(conn: h11.Connection, writer: asyncio.StreamWriter, err: BadRequest) -> None:
    """Answer a request that could not be read (when no answer began yet); the connection then
    closes."""
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return  # an answer already began: closing is all that is left
    responder = HttpResponder(conn, writer)
    responder.keep_alive = False
    await responder.send(err.status, f"{err}\n".encode(), _TEXT)


async def _run_handler(handler: Handler, request: HttpRequest, responder: HttpResponder) -> None:
    try:
        await handler(request, responder)
    except (ConnectionError, asyncio.IncompleteReadError):
        raise
    except Exception:
        logger.exception("handler failed: %s %s", request.method, request.path)
        if responder.started:
            raise ConnectionError("stream aborted by a server fault") from None
        responder.keep_alive = False
        await responder.send(500, b"internal server error", _TEXT)
        return
    if not responder.started:
        responder.keep_alive = False
        await responder.send(500, b"no response", _TEXT)


async def read_request(
    conn: h11.Connection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    max_body_bytes: int,
) -> HttpRequest | None:
    """The next whole request, or None when the client closed the connection between requests."""
    event = await _next_event(conn, reader)
    if isinstance(event, h11.ConnectionClosed):
        return None
    assert isinstance(event, h11.Request)
    version = _VERSIONS.get(event.http_version)
    target = event.target.decode("ascii", "replace")
    if version is None:
        raise BadRequest(400, f"HTTP/{event.http_version.decode()} is not supported")
    if not target.startswith("/"):
        raise BadRequest(400, "malformed request target")
    head_size = len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers)
    if head_size > MAX_HEAD_BYTES:  # h11 bounds only heads that arrive in several reads
        raise BadRequest(431, "request head too large")
    headers = _header_map(event.headers)
    if "transfer-encoding" in headers and "content-length" in headers:
        # Allowed by the RFC with Transfer-Encoding winning, and the root of request smuggling
        # when a proxy in front picks the other one.
        raise BadRequest(400, "both Content-Length and Transfer-Encoding")
    declared = int(headers.get("content-length", "0") or "0")  # h11 checked: ASCII digits
    if declared > max_body_bytes:
        raise BadRequest(413, f"request body larger than {max_body_bytes} bytes")
    body = await _read_body(conn, reader, writer, max_body_bytes)
    path, _, query = target.partition("?")
    return HttpRequest(event.method.decode("ascii").upper(), path, query, version, headers, body)


async def _read_body(
    conn: h11.Connection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    max_body_bytes: int,
) -> bytes:
    pieces: list[bytes] = []
    size = 0
    while True:
        if conn.they_are_waiting_for_100_continue:
            go_on = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
            writer.write(conn.send(go_on) or b"")
            await writer.drain()
        event = await _next_event(conn, reader)
        if isinstance(event, h11.EndOfMessage):
            return b"".join(pieces)
        if not isinstance(event, h11.Data):
            raise BadRequest(400, "incomplete request body")
        size += len(event.data)
        if size > max_body_bytes:
            raise BadRequest(413, f"request body larger than {max_body_bytes} bytes")
        pieces.append(bytes(event.data))


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> h11.Event:
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as err:
            raise BadRequest(err.error_status_hint, _protocol_message(err)) from None
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(_READ_SIZE))
            continue
        if event is h11.PAUSED:
            raise BadRequest(400, "unexpected data after the request")
        assert isinstance(event, h11.Event)
        return event


def _protocol_message(err: h11.RemoteProtocolError) -> str:
    if err.error_status_hint == 431:
        return "request head too large"
    return f"malformed request: {err}"


def _header_map(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


_TEXT = {"content-type": "text/plain; charset=utf-8"}
