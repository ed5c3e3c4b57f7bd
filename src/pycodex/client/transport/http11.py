"""HTTP/1.1 on one connection (RFC 9112): the request head out, the response head and body in.

- `Origin` and `parse_url`: where a URL points and the request target to send for it.
- `Headers`: response header fields, looked up case-insensitively.
- `Connection`: one open TCP or TLS connection; every read and write is timed and every OS error
  becomes a transport error, so callers above see `errors.TransportError` only.
- `encode_request_head`, `read_response_head`: the two heads.

The body that follows a head is `body.py`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from pycodex.client.transport.errors import (
    InvalidRequest,
    NetworkError,
    ReadTimeout,
    RemoteProtocolError,
)

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_HEAD_BYTES = 64 * 1024
_LINE_ENDS = (b"\r\n", b"\n")
_SAFE_IN_TARGET = "!#$%&'()*+,/:;=?@[]~"


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


class Connection:
    """One open connection. `peer` names it in messages ("host:port", or "proxy host:port")."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.responses = 0
        """Responses completed on this connection; above 0 it came back from the pool."""
        self.received = 0
        """Bytes received since `begin_request`."""
        self.idle_since = 0.0

    def begin_request(self) -> None:
        self.received = 0

    def is_reusable(self) -> bool:
        """Whether a new request may go out on it: open, not at EOF, nothing unread pending."""
        if self.writer.is_closing() or self.reader.at_eof() or self.reader.exception():
            return False
        # Bytes nobody asked for (a server's parting "408 Request Timeout") would be read as
        # the next response's head. StreamReader has no public way to peek at its buffer.
        return not getattr(self.reader, "_buffer", b"")

    def close(self) -> None:
        self.writer.close()

    async def wait_closed(self, timeout_s: float) -> None:
        """Wait a little for the transport to finish closing; failures no longer matter."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.writer.wait_closed()
        except (OSError, TimeoutError):
            pass

    async def write(self, data: bytes, timeout_s: float | None) -> None:
        try:
            self.writer.write(data)
            async with asyncio.timeout(timeout_s):
                await self.writer.drain()
        except TimeoutError:
            raise ReadTimeout(f"{self.peer} accepted no data for {timeout_s:g} s") from None
        except OSError as err:
            message = f"connection to {self.peer} broke while sending: {reason(err)}"
            raise NetworkError(message) from None

    async def read_line(self, timeout_s: float | None) -> bytes:
        """One line with its ending; at EOF what is left (maybe a partial line, maybe b"")."""
        try:
            async with asyncio.timeout(timeout_s):
                line = await self.reader.readline()
        except TimeoutError:
            raise self._read_timeout(timeout_s) from None
        except ValueError:  # StreamReader's line-length limit
            raise RemoteProtocolError(f"{self.peer} sent a line longer than 64 KiB") from None
        except OSError as err:
            raise self._read_broken(err) from None
        self.received += len(line)
        return line

    async def read_some(self, limit: int, timeout_s: float | None) -> bytes:
        """Up to `limit` bytes as soon as any arrive; b"" at EOF."""
        try:
            async with asyncio.timeout(timeout_s):
                data = await self.reader.read(limit)
        except TimeoutError:
            raise self._read_timeout(timeout_s) from None
        except OSError as err:
            raise self._read_broken(err) from None
        self.received += len(data)
        return data

    def _read_timeout(self, timeout_s: float | None) -> ReadTimeout:
        return ReadTimeout(f"{self.peer} sent nothing for {timeout_s:g} s")

    def _read_broken(self, err: OSError) -> NetworkError:
        return NetworkError(f"connection to {self.peer} broke while receiving: {reason(err)}")


def reason(err: OSError) -> str:
    """The readable part of an OS error ("connection refused", not the errno boilerplate)."""
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, ConnectionResetError):
        return "connection reset by peer"
    return err.strerror or str(err) or type(err).__name__


def encode_request_head(method: str, target: str, fields: Iterable[tuple[str, str]]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    for name, value in fields:
        if not name or any(ch in name for ch in ":\r\n\0 \t"):
            raise InvalidRequest(f"{name!r} is not a valid header name")
        if any(ch in value for ch in "\r\n\0"):
            raise InvalidRequest(f"the value of header {name!r} contains a line break")
        lines.append(f"{name}: {value}")
    lines.append("\r\n")
    # Latin-1 is HTTP's historical header charset; anything beyond it goes out as UTF-8.
    text = "\r\n".join(lines)
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


class ResponseHead:
    """A status line and its header fields."""

    __slots__ = ("headers", "reason", "status", "version")

    def __init__(self, version: str, status: int, reason: str, headers: Headers) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers

    @property
    def keep_alive(self) -> bool:
        """Whether the server lets the connection carry another request (RFC 9112 §9.3)."""
        tokens = header_tokens(self.headers.get_list("connection"))
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


async def read_response_head(conn: Connection, timeout_s: float | None) -> ResponseHead:
    """The final response head; interim 1xx heads (100 Continue, 103 Early Hints) are skipped."""
    while True:
        head = await _read_one_head(conn, timeout_s)
        if head.status < 100 or head.status >= 200 or head.status == 101:
            return head


async def _read_one_head(conn: Connection, timeout_s: float | None) -> ResponseHead:
    line = await conn.read_line(timeout_s)
    if line in _LINE_ENDS:  # tolerate a stray empty line left after a previous body
        line = await conn.read_line(timeout_s)
    if not line:
        raise RemoteProtocolError(f"{conn.peer} closed the connection without sending a response")
    if not line.endswith(b"\n"):
        raise _cut_head(conn)
    version, status, reason_phrase = _parse_status_line(line, conn.peer)
    fields: list[tuple[str, str]] = []
    size = len(line)
    while True:
        line = await conn.read_line(timeout_s)
        if not line.endswith(b"\n"):
            raise _cut_head(conn)
        if line in _LINE_ENDS:
            return ResponseHead(version, status, reason_phrase, Headers(fields))
        size += len(line)
        if size > MAX_HEAD_BYTES:
            raise RemoteProtocolError(f"{conn.peer} sent response headers over 64 KiB")
        _add_field(fields, line.decode("latin-1").rstrip("\r\n"), conn.peer)


def _parse_status_line(line: bytes, peer: str) -> tuple[str, int, str]:
    text = line.decode("latin-1").rstrip("\r\n")
    parts = text.split(" ", 2)
    code = parts[1] if len(parts) > 1 else ""
    if (
        not parts[0].startswith("HTTP/1.")
        or len(code) != 3
        or not (code.isascii() and code.isdigit())
    ):
        raise RemoteProtocolError(f"{peer} did not answer with HTTP/1.x: {text[:60]!r}")
    return parts[0], int(code), parts[2] if len(parts) > 2 else ""


def _add_field(fields: list[tuple[str, str]], text: str, peer: str) -> None:
    if text[:1] in (" ", "\t") and fields:  # obsolete line folding: continues the last value
        name, value = fields[-1]
        fields[-1] = (name, f"{value} {text.strip()}")
        return
    name, colon, value = text.partition(":")
    if not colon or not name or name != name.strip():
        raise RemoteProtocolError(f"{peer} sent a malformed header line: {text[:60]!r}")
    fields.append((name, value.strip()))


def _cut_head(conn: Connection) -> RemoteProtocolError:
    return RemoteProtocolError(f"{conn.peer} closed the connection in the middle of the headers")


def header_tokens(values: list[str]) -> list[str]:
    """The comma-separated tokens of a list-valued header, lower-cased."""
    return [part.strip().lower() for value in values for part in value.split(",") if part.strip()]
