"""HTTP/1.1 on one connection, framed by `h11`: the request out, the response head and body in.

- `Origin` and `parse_url`: where a URL points and the request target to send for it.
- `Headers`: response header fields, looked up case-insensitively.
- `Connection`: one open connection (a `socket_stream.SocketStream`) and the `h11` state machine
  that frames what crosses it: one request at a time, interim 1xx answers skipped, the body by
  its framing (length, chunked, until close), reuse only when both sides finished cleanly.

h11 does the parsing (status line, header fields, Content-Length, chunk sizes, trailers), so the
framing rules are those of the parser under httpcore and uvicorn. Its errors become transport
errors with a message that names the peer and says what went wrong in words a user can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple
from urllib.parse import quote, urlsplit

import h11

from pycodex.client.transport.errors import InvalidRequest, RemoteProtocolError
from pycodex.client.transport.socket_stream import SocketStream

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_HEAD_BYTES = 64 * 1024
_SAFE_IN_TARGET = "!#$%&'()*+,/:;=?@[]~"
_DRAIN_LIMIT = 64 * 1024
"""At most this much of an abandoned body is read from what already arrived, to keep the
connection for the next request."""


class Origin(NamedTuple):
    """Scheme, host and port: what a connection is opened to. `host` has no IPv6 brackets."""

    scheme: str
    host: str
    port: int

    @property
    def authority(self) -> str:
        """`host:port`, as in a CONNECT request and in error messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def host_header(self) -> str:
        """The `Host` value: the port only when it is not the scheme's default."""
        if self.port == DEFAULT_PORTS[self.scheme]:
            return f"[{self.host}]" if ":" in self.host else self.host
        return self.authority


def parse_url(url: str) -> tuple[Origin, str]:
    """The origin of an http(s) URL and its origin-form request target (path and query)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f"{scheme}://" if scheme else repr(url[:40])
        raise InvalidRequest(f"cannot request {shown}: only http:// and https:// URLs work")
    host = parts.hostname
    if not host:
        raise InvalidRequest(f"the URL {scheme}://{parts.path[:40]} has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise InvalidRequest(f"the URL for {host} has an invalid port") from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidRequest(f"the host name {host!r} cannot be encoded") from None
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    if not target.isascii() or " " in target:
        target = quote(target, safe=_SAFE_IN_TARGET)
    return Origin(scheme, host, port), target


class Headers(Mapping[str, str]):
    """Header fields as received. Lookup ignores case; a repeated field reads as one value
    joined with ", " (`get_list` keeps them apart); iteration yields lower-case names."""

    __slots__ = ("_fields", "_joined")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields = list(fields)
        self._joined: dict[str, str] = {}
        for name, value in self._fields:
            key = name.lower()
            earlier = self._joined.get(key)
            self._joined[key] = value if earlier is None else f"{earlier}, {value}"

    def __getitem__(self, name: str) -> str:
        return self._joined[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._joined)

    def __len__(self) -> int:
        return len(self._joined)

    def get_list(self, name: str) -> list[str]:
        key = name.lower()
        return [value for field, value in self._fields if field.lower() == key]

    @property
    def raw(self) -> list[tuple[str, str]]:
        """The fields in the order received, names as the server spelled them."""
        return list(self._fields)

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


class ResponseHead(NamedTuple):
    """A status line and its header fields."""

    version: str
    status: int
    reason: str
    headers: Headers


def encode_field(name: str, value: str) -> tuple[bytes, bytes]:
    """One request header field as bytes; a name or value that would break the head is refused."""
    if not name or any(ch in name for ch in ":\r\n\0 \t"):
        raise InvalidRequest(f"{name!r} is not a valid header name")
    if any(ch in value for ch in "\r\n\0"):
        raise InvalidRequest(f"the value of header {name!r} contains a line break")
    # Latin-1 is HTTP's historical header charset; anything beyond it goes out as UTF-8.
    try:
        return name.encode("ascii"), value.encode("latin-1")
    except UnicodeEncodeError:
        return name.encode("utf-8"), value.encode("utf-8")


class Connection:
    """One open connection and its HTTP/1.1 state: `send_request`, `read_head`, `read_body`.

    `responses` counts the responses completed on it (above 0 it came back from the pool);
    `received` the bytes received since the last request went out.
    """

    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream
        self.responses = 0
        self.received = 0
        self.idle_since = 0.0
        self.body_done = False
        self._h11 = _new_state()
        self._length: int | None = None  # the body's Content-Length, when it has one
        self._chunked = False
        self._body_received = 0
        self._in_head = True
        self._eof_seen = False
        self._first_line = b""

    @property
    def peer(self) -> str:
        return self.stream.peer

    @peer.setter
    def peer(self, value: str) -> None:
        self.stream.peer = value

    def restart(self) -> None:
        """A fresh HTTP state, for the origin at the end of a proxy tunnel."""
        self._h11 = _new_state()

    # --- the request ------------------------------------------------------------------------

    async def send_request(
        self,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        content: bytes | None,
        timeout_s: float | None,
    ) -> None:
        """Send one request; `headers` come from `encode_field`."""
        state = self._h11
        try:
            pieces = [state.send(h11.Request(method=method, target=target, headers=headers))]
            if content:
                pieces.append(state.send(h11.Data(data=content)))
            pieces.append(state.send(h11.EndOfMessage()))
        except h11.LocalProtocolError as err:
            raise InvalidRequest(f"cannot send {method} {target[:60]}: {err}") from None
        self.received = 0
        self.body_done = False
        self._in_head = True
        self._eof_seen = False
        self._first_line = b""
        await self.stream.write(b"".join(piece for piece in pieces if piece), timeout_s)

    # --- the response -----------------------------------------------------------------------

    async def read_head(self, timeout_s: float | None) -> ResponseHead:
        """The final response head; interim 1xx heads (100 Continue, 103 Early Hints) are
        skipped."""
        while True:
            event = self._next_event()
            if event is h11.NEED_DATA:
                await self._receive(timeout_s, head=True)
                continue
            if type(event) is h11.InformationalResponse:
                continue
            if type(event) is h11.Response:
                return self._head(event)
            raise RemoteProtocolError(f"{self.peer} sent no response head ({type(event).__name__})")

    async def read_body(self, timeout_s: float | None) -> bytes:
        """The body bytes that arrived next, as one piece (all that is buffered, waiting for
        some if none is); b"" once the body is complete (`body_done`)."""
        pieces: list[bytes] = []
        while not self.body_done:
            event = self._next_event()
            kind = type(event)
            if kind is h11.Data:
                pieces.append(event.data)  # type: ignore[union-attr]
            elif event is h11.NEED_DATA:
                if pieces:
                    break
                await self._receive(timeout_s, head=False)
            elif kind is h11.EndOfMessage:
                self.body_done = True
            else:
                raise RemoteProtocolError(f"{self.peer} sent {kind.__name__} inside a body")
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self._body_received += len(data)
        return bytes(data)

    def drain_buffered(self) -> None:
        """Read what is left of the body if it already arrived, without waiting for more.

        A streaming consumer stops at its own end marker (`response.completed`, `[DONE]`),
        usually just before the body's last few bytes; reading those keeps the connection.
        """
        discarded = 0
        while not self.body_done and discarded <= _DRAIN_LIMIT:
            try:
                event = self._next_event()
            except RemoteProtocolError:
                return
            if event is h11.NEED_DATA:
                data = self.stream.read_nowait() if self.stream.has_unread else b""
                if not data:
                    return
                self._h11.receive_data(data)
            elif type(event) is h11.Data:
                discarded += len(event.data)
            elif type(event) is h11.EndOfMessage:
                self.body_done = True
            else:
                return

    def finish_cycle(self) -> bool:
        """After a complete response: ready the connection for another request, if both sides
        allow it (no `Connection: close`, not a body that ended at close, nothing left over)."""
        state = self._h11
        if not (self.body_done and state.our_state is h11.DONE and state.their_state is h11.DONE):
            return False
        if state.trailing_data[0] or self.stream.has_unread:
            return False  # bytes nobody asked for, e.g. a server's parting "408"
        state.start_next_cycle()
        return True

    @property
    def has_tunnel_data(self) -> bool:
        """Bytes received after a CONNECT answer, before the tunnel's TLS handshake."""
        return bool(self._h11.trailing_data[0]) or self.stream.has_unread

    @property
    def is_reusable(self) -> bool:
        """Open, not at EOF, nothing unread pending."""
        return self.stream.is_open and not self.stream.has_unread

    def close(self) -> None:
        self.stream.close()

    async def wait_closed(self, timeout_s: float) -> None:
        await self.stream.wait_closed(timeout_s)

    # --- helpers ----------------------------------------------------------------------------

    async def _receive(self, timeout_s: float | None, *, head: bool) -> None:
        data = await self.stream.read(timeout_s)
        if head and not self.received:
            data = data.lstrip(b"\r\n")  # tolerate a stray empty line after a previous body
            if not data and not self.stream.at_eof:
                return
            self._first_line = data[:80]
        self.received += len(data)
        self._eof_seen = not data
        self._h11.receive_data(data)  # b"" tells h11 the server closed the connection

    def _next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        try:
            return self._h11.next_event()
        except h11.RemoteProtocolError as err:
            raise self._protocol_error(err) from None

    def _head(self, event: h11.Response) -> ResponseHead:
        fields = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in
                  event.headers.raw_items()]  # fmt: skip
        headers = Headers(fields)
        self._chunked = "chunked" in headers.get("transfer-encoding", "")
        length = headers.get("content-length")
        self._length = int(length) if length and not self._chunked else None
        self._body_received = 0
        self._in_head = False
        version = "HTTP/" + event.http_version.decode("ascii")
        return ResponseHead(version, event.status_code, event.reason.decode("latin-1"), headers)

    def _protocol_error(self, err: h11.RemoteProtocolError) -> RemoteProtocolError:
        peer, text = self.peer, str(err)
        if self._eof_seen:
            return self._cut_error()
        if self._in_head and "status line" in text:
            shown = self._first_line.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1")
            return RemoteProtocolError(f"{peer} did not answer with HTTP/1.x: {shown[:60]!r}")
        if "Content-Length" in text:
            return RemoteProtocolError(f"{peer} sent an invalid Content-Length ({text})")
        return RemoteProtocolError(f"{peer} sent a malformed response: {text}")

    def _cut_error(self) -> RemoteProtocolError:
        peer = self.peer
        if self._in_head:
            if not self.received:
                return RemoteProtocolError(
                    f"{peer} closed the connection without sending a response"
                )
            return RemoteProtocolError(f"{peer} closed the connection in the middle of the headers")
        if self._chunked:
            return RemoteProtocolError(
                f"{peer} closed the connection in the middle of a chunked response body"
            )
        return RemoteProtocolError(
            f"{peer} closed the connection before the response body was complete"
            f" ({self._body_received} of {self._length} bytes)"
        )


def _new_state() -> h11.Connection:
    return h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
