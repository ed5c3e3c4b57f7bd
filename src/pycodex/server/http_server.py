"""A small HTTP/1.1 server on asyncio streams: exactly what the compat server needs, no more.

Requests: a request line, header lines, and a body framed by `Content-Length` (every Responses
client sends one; a chunked request body is refused with 411). `Expect: 100-continue` is honoured
so curl does not stall for a second on large bodies. Connections persist by the HTTP/1.1 rules
(`Connection: close` and HTTP/1.0 without `keep-alive` end them) and idle ones are closed after
`idle_timeout_s`.

Responses: either a whole body with `Content-Length` (`HttpResponder.send`), or a stream
(`open_stream`, `write`, `drain`, `close_stream`) framed with chunked transfer encoding, or, for an
HTTP/1.0 client, delimited by closing the connection. A handler that fails before answering gets a
500; one that fails mid-stream has its connection dropped, which the client sees as a cut stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus

from pycodex._records import dataclass

logger = logging.getLogger("pycodex.server")

MAX_HEAD_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


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
    """Writes the one response to one request."""

    def __init__(self, writer: asyncio.StreamWriter, version: str, keep_alive: bool) -> None:
        self._writer = writer
        self._version = version
        self.keep_alive = keep_alive
        self.status: int | None = None
        self._chunked = False
        self._last_write = time.monotonic()

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
        fields = {"content-length": str(len(body)), **(headers or {})}
        self._writer.write(self._head(status, fields) + body)
        await self.drain()

    async def open_stream(self, status: int, headers: Mapping[str, str] | None = None) -> None:
        fields = dict(headers or {})
        if self._version == "HTTP/1.1":
            self._chunked = True
            fields["transfer-encoding"] = "chunked"
        else:
            self.keep_alive = False  # the end of the body is the end of the connection
        self._writer.write(self._head(status, fields))
        await self.drain()

    def write(self, data: bytes) -> None:
        """Queue one piece of a stream; `drain` applies back-pressure from a slow client."""
        if not data:
            return
        if self._chunked:
            data = b"%x\r\n%b\r\n" % (len(data), data)
        self._writer.write(data)
        self._last_write = time.monotonic()

    async def drain(self) -> None:
        await self._writer.drain()

    async def close_stream(self) -> None:
        if self._chunked:
            self._writer.write(b"0\r\n\r\n")
        await self.drain()

    def _head(self, status: int, headers: Mapping[str, str]) -> bytes:
        self.status = status
        self._last_write = time.monotonic()
        lines = [f"{self._version} {status} {_phrase(status)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"connection: {'keep-alive' if self.keep_alive else 'close'}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    *,
    idle_timeout_s: float = 75.0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> None:
    """Answer requests on one connection until either side ends it."""
    try:
        while True:
            try:
                async with asyncio.timeout(idle_timeout_s):
                    request = await read_request(reader, writer, max_body_bytes)
            except BadRequest as err:
                responder = HttpResponder(writer, "HTTP/1.1", keep_alive=False)
                await responder.send(err.status, str(err).encode(), _TEXT)
                return
            if request is None:
                return
            responder = HttpResponder(writer, request.version, _keep_alive(request))
            await _run_handler(handler, request, responder)
            if not responder.keep_alive:
                return
    except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        return  # an idle or vanished client: nothing to answer
    finally:
        writer.close()
        # A peer that already hung up makes the close handshake fail; there is nobody to tell.
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


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
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_body_bytes: int
) -> HttpRequest | None:
    """The next request, or None when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as err:
        if err.partial.strip():
            raise BadRequest(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "request head too large") from None
    method, target, version, headers = _parse_head(head)
    if "transfer-encoding" in headers:
        raise BadRequest(411, "send the body with a Content-Length")
    length = _content_length(headers, max_body_bytes)
    if length and headers.get("expect", "").lower() == "100-continue":
        writer.write(f"{version} 100 Continue\r\n\r\n".encode())
        await writer.drain()
    body = await reader.readexactly(length) if length else b""
    path, _, query = target.partition("?")
    return HttpRequest(method, path, query, version, headers, body)


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not parts[1].startswith("/"):
        raise BadRequest(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        key, value = name.lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return parts[0].upper(), parts[1], parts[2], headers


def _content_length(headers: Mapping[str, str], max_body_bytes: int) -> int:
    raw = headers.get("content-length")
    if raw is None:
        return 0
    if not raw.isdigit():
        raise BadRequest(400, "invalid Content-Length")
    length = int(raw)
    if length > max_body_bytes:
        raise BadRequest(413, f"request body larger than {max_body_bytes} bytes")
    return length


def _keep_alive(request: HttpRequest) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.version == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


_TEXT = {"content-type": "text/plain; charset=utf-8"}
