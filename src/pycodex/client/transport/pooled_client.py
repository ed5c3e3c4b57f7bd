"""`HttpClient`: requests over a keep-alive pool, and `Response`, read whole or as it arrives.

The pool keeps idle connections per route (origin, and proxy if any) with no cap on open
ones. A connection goes back to the pool only when its response was read to the end and neither
side said `Connection: close`; it is dropped when it idled past `keepalive_expiry` or the server
closed it meanwhile. A request that fails on a pooled connection before any byte of the response
arrived (the server closed it as we sent) is sent once more on a new connection.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, NamedTuple, Self

from pycodex._version import __version__
from pycodex.client.transport.body import BodyDecoder, body_decoder
from pycodex.client.transport.connect import TlsSettings, open_connection
from pycodex.client.transport.errors import NetworkError, RemoteProtocolError
from pycodex.client.transport.http11 import Connection, ResponseHead, encode_field, parse_url
from pycodex.client.transport.proxy import ProxySettings, Route

DEFAULT_USER_AGENT = f"pycodex/{__version__}"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Framing and connection management belong to the transport; a caller's value would break them.
_TRANSPORT_FIELDS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_CLOSE_WAIT_S = 1.0


class Timeouts(NamedTuple):
    """Seconds to wait; None waits forever."""

    connect: float | None = 30.0
    """Opening a connection: TCP, a proxy tunnel and the TLS handshake together."""
    read: float | None = 60.0
    """The longest silence while reading (and the longest a send may stall)."""


class Response:
    """One response. Its body is read with `aiter_bytes()` or `aread()`, gzip and deflate
    codings undone; `aclose()` gives the connection back (or closes it if the body was not read
    to the end)."""

    def __init__(
        self,
        url: str,
        head: ResponseHead,
        conn: Connection,
        release: _Release,
        read_timeout_s: float | None,
    ) -> None:
        self.url = url
        self.status_code = head.status
        self.reason_phrase = head.reason
        self.http_version = head.version
        self.headers = head.headers
        self._conn = conn
        self._release: _Release | None = release
        self._read_timeout_s = read_timeout_s
        self._decoder: BodyDecoder | None = body_decoder(head.headers, conn.peer)
        self._content: bytes | None = None
        self._streamed = False
        self._closed = False
        if conn.body_done:  # no body (HEAD, 204, 304): the connection is free at once
            self._finish()

    @property
    def is_closed(self) -> bool:
        return self._release is None

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise RuntimeError("the response body was not read; await response.aread() first")
        return self._content

    @property
    def text(self) -> str:
        """The body decoded by the declared charset (UTF-8 when none or an unknown one)."""
        try:
            return self.content.decode(self._charset(), "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.content)

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive, each piece all that had arrived by then."""
        if self._content is not None:
            if self._content:
                yield self._content
            return
        if self._streamed:
            raise RuntimeError("the response body was already read")
        if self._closed:
            raise RuntimeError("the response was closed before its body was read")
        self._streamed = True
        decoder = self._decoder
        while chunk := await self._next_chunk():
            if decoder is not None:
                chunk = decoder.decode(chunk)
                if not chunk:
                    continue
            yield chunk
        if decoder is not None and (rest := decoder.flush()):
            yield rest

    async def aread(self) -> bytes:
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self.aiter_bytes()])
        return self._content

    async def aclose(self) -> None:
        self._closed = True
        if self._release is not None:
            self._conn.drain_buffered()
        self._finish()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<Response {self.status_code} {self.reason_phrase}>"

    async def _next_chunk(self) -> bytes:
        if self._release is None:
            if self._conn.body_done:
                return b""
            raise RuntimeError("the response was closed before its body was read")
        try:
            chunk = await self._conn.read_body(self._read_timeout_s)
        except BaseException:
            self._finish()
            raise
        if self._conn.body_done:
            self._finish()
        return chunk

    def _finish(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release(self._conn.finish_cycle())

    def _charset(self) -> str:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"


def _has_no_body(method: str, head: ResponseHead) -> bool:
    return (
        method == "HEAD" or head.status in (204, 304) or head.headers.get("content-length") == "0"
    )


class _Release:
    """Hands a connection back to its pool once: kept for reuse, or closed."""

    def __init__(self, client: HttpClient, route: Route, conn: Connection) -> None:
        self.client, self.route, self.conn = client, route, conn

    def __call__(self, reusable: bool) -> None:
        self.client._release(self.route, self.conn, reusable)


class HttpClient:
    """An asyncio HTTP/1.1 client. Use as `async with HttpClient() as http:`, or `aclose()` it.

    `verify`: check TLS certificates (True), skip checking (False), or use this context.
    `trust_env`: read proxies and `SSL_CERT_FILE` / `SSL_CERT_DIR` from `env` (default:
    `os.environ`, read once here). `max_idle_per_route` caps idle connections kept per route.
    """

    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        verify: bool | ssl.SSLContext = True,
        trust_env: bool = True,
        env: Mapping[str, str] | None = None,
        max_idle_per_route: int = 64,
        keepalive_expiry: float | None = 5.0,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        environ: Mapping[str, str] = (os.environ if env is None else env) if trust_env else {}
        self.timeouts = timeouts or Timeouts()
        self._proxies = ProxySettings(environ)
        self._tls = TlsSettings(verify, environ)
        self._max_idle = max_idle_per_route
        self._keepalive_expiry = keepalive_expiry
        self._user_agent = user_agent
        self._idle: dict[Route, list[Connection]] = {}
        self._busy: set[Connection] = set()
        self._closed = False

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeouts: Timeouts | None = None,
    ) -> Response:
        """Send a request and return once the response head arrived; the body is unread.

        The caller must read the body to the end or `aclose()` the response (or use `stream`).
        """
        if self._closed:
            raise RuntimeError("the HTTP client is closed")
        timeouts = timeouts or self.timeouts
        method = method.upper()
        origin, target = parse_url(url)
        route = self._proxies.route(origin)
        if route.forward:
            target = f"{origin.scheme}://{origin.host_header}{target}"
        fields = [
            encode_field(name, value)
            for name, value in self._fields(route, headers, method, content)
        ]
        fresh = False
        while True:
            conn = await self._acquire(route, timeouts.connect, fresh)
            reused = conn.responses > 0
            try:
                await conn.send_request(method, target, fields, content, timeouts.read)
                head = await conn.read_head(timeouts.read)
                if _has_no_body(method, head):
                    await conn.read_body(timeouts.read)  # ends at once: nothing to wait for
            except (NetworkError, RemoteProtocolError):
                self._release(route, conn, reusable=False)
                if reused and not conn.received and not fresh:
                    fresh = True  # a pooled connection the server had closed: once more
                    continue
                raise
            except BaseException:
                self._release(route, conn, reusable=False)
                raise
            return Response(url, head, conn, _Release(self, route, conn), timeouts.read)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeouts: Timeouts | None = None,
    ) -> AsyncIterator[Response]:
        """`async with http.stream("POST", url, content=body) as response:` ... closed after."""
        response = await self.send(method, url, headers=headers, content=content, timeouts=timeouts)
        try:
            yield response
        finally:
            await response.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeouts: Timeouts | None = None,
    ) -> Response:
        """The response with its body read (`content`, `text`, `json()`)."""
        async with self.stream(
            method, url, headers=headers, content=content, timeouts=timeouts
        ) as response:
            await response.aread()
        return response

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
    ) -> Response:
        return await self.request("GET", url, headers=headers, timeouts=timeouts)

    async def post(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeouts: Timeouts | None = None,
    ) -> Response:
        return await self.request("POST", url, headers=headers, content=content, timeouts=timeouts)

    async def aclose(self) -> None:
        """Close every connection, idle or in use; later requests raise RuntimeError."""
        self._closed = True
        conns = list(self._busy) + [conn for idle in self._idle.values() for conn in idle]
        self._busy.clear()
        self._idle.clear()
        for conn in conns:
            conn.close()
        if conns:
            await asyncio.gather(*(conn.wait_closed(_CLOSE_WAIT_S) for conn in conns))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- the pool ---------------------------------------------------------------------------

    async def _acquire(
        self, route: Route, connect_timeout_s: float | None, fresh: bool
    ) -> Connection:
        idle = self._idle.get(route)
        now = asyncio.get_running_loop().time()
        while idle and not fresh:
            conn = idle.pop()
            expired = self._keepalive_expiry is not None and (
                now - conn.idle_since > self._keepalive_expiry
            )
            if conn.is_reusable and not expired:
                self._busy.add(conn)
                return conn
            conn.close()
        conn = await open_connection(route, connect_timeout_s, self._tls)
        if self._closed:  # closed while we were connecting
            conn.close()
            raise RuntimeError("the HTTP client is closed")
        self._busy.add(conn)
        return conn

    def _release(self, route: Route, conn: Connection, reusable: bool) -> None:
        self._busy.discard(conn)
        conn.responses += 1
        conn.stream.settle()
        if reusable and not self._closed and conn.is_reusable:
            idle = self._idle.setdefault(route, [])
            if len(idle) < self._max_idle:
                conn.idle_since = asyncio.get_running_loop().time()
                idle.append(conn)
                return
        conn.close()

    def _fields(
        self,
        route: Route,
        headers: Mapping[str, str] | None,
        method: str,
        content: bytes | None,
    ) -> list[tuple[str, str]]:
        """Host first, then the caller's headers, then the defaults the caller did not set."""
        fields = {"host": ("Host", route.origin.host_header)}
        for name, value in (headers or {}).items():
            if name.lower() not in _TRANSPORT_FIELDS:
                fields[name.lower()] = (name, value)
        fields.setdefault("user-agent", ("User-Agent", self._user_agent))
        fields.setdefault("accept", ("Accept", "*/*"))
        fields.setdefault("accept-encoding", ("Accept-Encoding", "identity"))
        fields["connection"] = ("Connection", "keep-alive")
        if content is not None or method in _BODY_METHODS:
            fields["content-length"] = ("Content-Length", str(len(content or b"")))
        proxy = route.proxy if route.forward else None
        if proxy is not None and proxy.authorization:
            fields.setdefault("proxy-authorization", ("Proxy-Authorization", proxy.authorization))
        return list(fields.values())
