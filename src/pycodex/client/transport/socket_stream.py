"""`SocketStream`: the bytes of one open TCP or TLS connection, as an asyncio protocol.

Reads hand over everything that arrived since the last read, so a burst of small writes from the
server (one SSE event each) costs one wake-up, not one per write. Two things here are about
latency and cost on long streams of small pieces:

- One idle deadline per stream, not a timer per read. A read that has to wait notes when it
  started; a single timer, armed once, fires at the earliest moment the silence could have
  lasted `timeout_s`, and re-arms itself for the latest wait if data came meanwhile. Setting and
  cancelling an `asyncio.timeout()` around every read of a 20,000-event stream cost more than
  parsing the events.
- Delayed ACKs switched off (`TCP_QUICKACK`, Linux) after every read. A server that writes the
  response head and then each event separately, without `TCP_NODELAY`, holds each write back
  (Nagle) until the previous one is acknowledged; with the receiver's ACK delayed, every
  response on a kept-alive connection stalled ~40 ms. Quick ACKs end the wait at once.

Every OS error becomes a transport error naming the peer, so callers see `errors.TransportError`
only.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from pycodex.client.transport.errors import NetworkError, ReadTimeout

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
_PAUSE_ABOVE = 256 * 1024
"""Stop reading from the socket while this much is received and not yet consumed."""


class SocketStream(asyncio.Protocol):
    """The protocol of one connection: buffered input, timed waits, writes with flow control.

    `peer` names the connection in error messages ("host:port", or "proxy host:port").
    """

    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._error: OSError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._reading_paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._timeout_s = 0.0
        self._quickack: Any = None
        self._closed = self._loop.create_future()

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.use_transport(transport)

    def use_transport(self, transport: asyncio.Transport) -> None:
        """Read and write through `transport` from now on (set again after `start_tls`)."""
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if _QUICKACK is not None and sock is not None and sock.family != socket.AF_UNIX:
            self._quickack = sock.setsockopt

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._quickack is not None:
            try:
                self._quickack(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:
                self._quickack = None
        if self._buffered > _PAUSE_ABOVE and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # nothing more can come: let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        if isinstance(exc, OSError):
            self._error = exc
        self._cancel_timer()
        self._wake()
        if not self._closed.done():
            self._closed.set_result(None)
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- reading ----------------------------------------------------------------------------

    @property
    def at_eof(self) -> bool:
        return self._eof and not self._chunks

    @property
    def has_unread(self) -> bool:
        return bool(self._chunks)

    async def read(self, timeout_s: float | None) -> bytes:
        """Everything received and not read yet, waiting for something if nothing is; b"" at
        the end of the stream. Raises `ReadTimeout` after `timeout_s` of silence (None: wait
        forever) and `NetworkError` when the connection broke."""
        if not self._chunks and not self._eof:
            await self._wait(timeout_s)
        return self.read_nowait()

    def read_nowait(self) -> bytes:
        """What `read` would return, without waiting: b"" when nothing is buffered yet."""
        chunks = self._chunks
        if not chunks:
            if self._error is not None:
                raise NetworkError(
                    f"connection to {self.peer} broke while receiving: {reason(self._error)}"
                )
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    async def _wait(self, timeout_s: float | None) -> None:
        waiter = self._loop.create_future()
        self._waiter = waiter
        if timeout_s is not None:
            self._timeout_s = timeout_s
            self._deadline = self._loop.time() + timeout_s
            timer = self._timer
            if timer is None or timer.when() > self._deadline:
                if timer is not None:
                    timer.cancel()
                self._timer = self._loop.call_at(self._deadline, self._on_timer)
        try:
            await waiter
        finally:
            self._waiter = None

    def _on_timer(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return  # nobody waits now: the next wait arms the timer again
        if self._loop.time() < self._deadline:
            self._timer = self._loop.call_at(self._deadline, self._on_timer)
            return
        waiter.set_exception(ReadTimeout(f"{self.peer} sent nothing for {self._timeout_s:g} s"))

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- writing and closing ----------------------------------------------------------------

    async def write(self, data: bytes, timeout_s: float | None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            error = self._error or ConnectionResetError("the connection is closed")
            raise NetworkError(f"connection to {self.peer} broke while sending: {reason(error)}")
        transport.write(data)
        if not self._write_paused:
            return
        waiter = self._loop.create_future()
        self._drain_waiter = waiter
        try:
            async with asyncio.timeout(timeout_s):
                await waiter
        except TimeoutError:
            raise ReadTimeout(f"{self.peer} accepted no data for {timeout_s:g} s") from None
        if self._error is not None:
            message = f"connection to {self.peer} broke while sending: {reason(self._error)}"
            raise NetworkError(message)

    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing() and not self._eof

    def close(self) -> None:
        """Close now; a request that used the connection last is over."""
        self._cancel_timer()
        if self.transport is not None:
            self.transport.close()

    async def wait_closed(self, timeout_s: float) -> None:
        """Wait a little for the transport to finish closing; failures no longer matter."""
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.shield(self._closed)
        except TimeoutError:
            pass

    def settle(self) -> None:
        """The connection goes idle: no read is pending, so no timer needs to stay armed."""
        self._cancel_timer()


def reason(err: OSError) -> str:
    """The readable part of an OS error ("connection refused", not the errno boilerplate)."""
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, ConnectionResetError):
        return "connection reset by peer"
    return err.strerror or str(err) or type(err).__name__
