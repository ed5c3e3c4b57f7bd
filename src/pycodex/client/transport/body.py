"""Response bodies, read piece by piece as they arrive.

`open_body` picks the reader a response's framing asks for (RFC 9112 §6.3): HEAD, 1xx, 204 and
304 have no body; `Transfer-Encoding` ending in `chunked` wins over `Content-Length`; any other
transfer coding, or neither header, means the body runs until the server closes the connection.
Trailers after a chunked body are read and dropped.
"""

from __future__ import annotations

from pycodex.client.transport.errors import RemoteProtocolError
from pycodex.client.transport.http11 import Connection, ResponseHead, header_tokens

READ_SIZE = 64 * 1024
_MAX_TRAILER_LINES = 100
_LINE_ENDS = (b"\r\n", b"\n")


class Body:
    """A response body read piece by piece: `next_chunk()` returns b"" once it is complete.

    `done` says the whole body was read; `reusable` whether the connection may then carry
    another request (a body that ends at close cannot).
    """

    reusable = True

    def __init__(self, conn: Connection, timeout_s: float | None) -> None:
        self.conn = conn
        self.timeout_s = timeout_s
        self.done = False

    async def next_chunk(self) -> bytes:
        raise NotImplementedError


class LengthBody(Body):
    def __init__(self, conn: Connection, timeout_s: float | None, length: int) -> None:
        super().__init__(conn, timeout_s)
        self.length = length
        self.remaining = length
        self.done = length == 0

    async def next_chunk(self) -> bytes:
        if self.remaining == 0:
            self.done = True
            return b""
        data = await self.conn.read_some(min(self.remaining, READ_SIZE), self.timeout_s)
        if not data:
            got = self.length - self.remaining
            raise RemoteProtocolError(
                f"{self.conn.peer} closed the connection before the response body was complete"
                f" ({got} of {self.length} bytes)"
            )
        self.remaining -= len(data)
        self.done = self.remaining == 0
        return data


class ChunkedBody(Body):
    def __init__(self, conn: Connection, timeout_s: float | None) -> None:
        super().__init__(conn, timeout_s)
        self.remaining = 0  # bytes left in the current chunk

    async def next_chunk(self) -> bytes:
        if self.done:
            return b""
        if self.remaining == 0:
            self.remaining = await self._chunk_size()
            if self.remaining == 0:
                await self._skip_trailers()
                self.done = True
                return b""
        data = await self.conn.read_some(min(self.remaining, READ_SIZE), self.timeout_s)
        if not data:
            raise self._cut()
        self.remaining -= len(data)
        if self.remaining == 0:
            end = await self.conn.read_line(self.timeout_s)
            if end not in _LINE_ENDS:
                raise self._cut() if not end else self._malformed(end)
        return data

    async def _chunk_size(self) -> int:
        line = await self.conn.read_line(self.timeout_s)
        if not line.endswith(b"\n"):
            raise self._cut()
        digits = line.split(b";", 1)[0].strip()
        if not digits or len(digits) > 16 or digits.strip(b"0123456789abcdefABCDEF"):
            raise self._malformed(line)
        return int(digits, 16)

    async def _skip_trailers(self) -> None:
        for _ in range(_MAX_TRAILER_LINES):
            line = await self.conn.read_line(self.timeout_s)
            if line in _LINE_ENDS:
                return
            if not line:  # the body is whole; only the final empty line is missing
                self.reusable = False
                return
        raise RemoteProtocolError(f"{self.conn.peer} sent over {_MAX_TRAILER_LINES} trailers")

    def _cut(self) -> RemoteProtocolError:
        return RemoteProtocolError(
            f"{self.conn.peer} closed the connection in the middle of a chunked response body"
        )

    def _malformed(self, line: bytes) -> RemoteProtocolError:
        return RemoteProtocolError(f"{self.conn.peer} sent a malformed chunked body: {line[:40]!r}")


class CloseDelimitedBody(Body):
    reusable = False

    async def next_chunk(self) -> bytes:
        if self.done:
            return b""
        data = await self.conn.read_some(READ_SIZE, self.timeout_s)
        self.done = not data
        return data


def open_body(conn: Connection, method: str, head: ResponseHead, timeout_s: float | None) -> Body:
    """The reader for this response's body, by its framing."""
    if method == "HEAD" or head.status < 200 or head.status in (204, 304):
        return LengthBody(conn, timeout_s, 0)
    codings = header_tokens(head.headers.get_list("transfer-encoding"))
    if codings:
        if codings[-1] != "chunked":
            return CloseDelimitedBody(conn, timeout_s)
        body: Body = ChunkedBody(conn, timeout_s)
        if "content-length" in head.headers:  # both: a smuggling risk, never reuse
            body.reusable = False
        return body
    lengths = head.headers.get_list("content-length")
    if not lengths:
        return CloseDelimitedBody(conn, timeout_s)
    return LengthBody(conn, timeout_s, _content_length(lengths, conn.peer))


def _content_length(values: list[str], peer: str) -> int:
    numbers = {part.strip() for value in values for part in value.split(",")}
    if len(numbers) != 1:
        raise RemoteProtocolError(f"{peer} sent conflicting Content-Length values")
    number = numbers.pop()
    if not number.isascii() or not number.isdigit():
        raise RemoteProtocolError(f"{peer} sent an invalid Content-Length: {number[:20]!r}")
    return int(number)
