"""A raw asyncio server on 127.0.0.1 for the HTTP transport's tests.

Unlike the fake model server, it hands each connection to a test-written coroutine, so a test
can answer byte by byte: cut a body, stall, close a pooled connection, act as a proxy. It counts
accepted connections and keeps every request it read, in order:

    async def handler(server, reader, writer):
        while (request := await server.read_request(reader)) is not None:
            writer.write(http_response(b"hi"))

    async with LoopbackServer(handler) as server:
        ...  # requests to server.url
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

Handler = Callable[["LoopbackServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass(frozen=True)
class RawRequest:
    """A request as it arrived. Header names lower-cased."""

    line: str
    headers: dict[str, str]
    header_names: list[str]
    body: bytes
    connection: int
    """Which accepted connection (1-based) carried it."""


@dataclass
class LoopbackServer:
    handler: Handler
    port: int = 0
    connections: int = 0
    requests: list[RawRequest] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _numbers: dict[int, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LoopbackServer:
        self._server = await asyncio.start_server(self._on_connection, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def read_request(self, reader: asyncio.StreamReader) -> RawRequest | None:
        """The next request on this connection, or None when the client closed it."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        line, *fields = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        names = [name for name, _, _ in (f.partition(":") for f in fields)]
        headers = {
            name.lower(): value.strip() for name, _, value in (f.partition(":") for f in fields)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        request = RawRequest(line, headers, names, body, self._numbers.get(id(reader), 0))
        self.requests.append(request)
        return request

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self._numbers[id(reader)] = self.connections
        try:
            await self.handler(self, reader, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._numbers.pop(id(reader), None)
            self._tasks.discard(task)


def http_response(
    body: bytes = b"", status: str = "200 OK", headers: dict[str, str] | None = None
) -> bytes:
    """A whole response with Content-Length (unless `headers` frame the body otherwise)."""
    fields = {"Content-Length": str(len(body)), **(headers or {})}
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items() if value)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)


async def serve_each(
    server: LoopbackServer,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    reply: bytes = b"",
) -> None:
    """Answer every request on the connection with `reply` (default: 200 "ok")."""
    while await server.read_request(reader) is not None:
        writer.write(reply or http_response(b"ok"))
        await writer.drain()
