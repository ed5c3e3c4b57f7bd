"""HTTP plumbing of the fake model server: a threaded HTTP/1.1 server that records each request,
asks a router for the `Reply`, and writes it, streaming event frames with chunked encoding.

Kept apart from `fake_server` so that module reads as the scripting API only.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

__all__ = ["FakeHTTPServer", "RecordedRequest", "Reply"]

# A client hanging up mid-reply is a normal event in these tests (timeouts, early exits).
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it. Header names are lower-cased."""

    method: str
    path: str
    headers: Mapping[str, str]
    body_bytes: bytes

    @property
    def path_without_query(self) -> str:
        return self.path.partition("?")[0]

    @property
    def query(self) -> str:
        return self.path.partition("?")[2]

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError if it is not JSON)."""
        return json.loads(self.body_bytes)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Reply:
    """What to send back: a fixed `body`, or `frames` streamed one write each."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    frames: tuple[bytes, ...] | None = None
    delay_s: float = 0.0
    cut_after: int | None = None
    stall_after: int | None = None
    abrupt: bool = False


Router = Callable[[RecordedRequest], Reply]


class FakeHTTPServer(ThreadingHTTPServer):
    """Serves each connection on its own thread; `server_close()` joins those threads.

    The threads are daemons, so a test that forgets `close()` cannot hang interpreter exit on an
    idle keep-alive connection; `close()` still joins them so none outlives the test.
    """

    # Concurrency tests and benchmarks open dozens of connections at once; socketserver's default
    # backlog of 5 would drop them. Real servers listen with a deep queue (nginx 511, uvicorn 2048).
    request_queue_size = 1024

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], route: Router, record_error: Callable[[str], None]
    ) -> None:
        self.route = route
        self.record_error = record_error
        self.closing = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._handler_threads: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"fake-model-server-connection-{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def server_close(self) -> None:
        super().server_close()
        with self._connections_lock:
            threads = list(self._handler_threads)
        for thread in threads:
            thread.join()

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can be slow in sandboxes.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def register(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)
            closing = self.closing.is_set()
        if closing:  # accepted just before close(): do not let it block the join
            _hang_up(connection)

    def unregister(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def drop_connections(self) -> None:
        """Wake every handler blocked on a socket (idle keep-alive, stalled stream)."""
        with self._connections_lock:
            self.closing.set()
            connections = list(self._connections)
        for connection in connections:
            _hang_up(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.record_error(f"fake server fault: {traceback.format_exc().strip()}")


def _hang_up(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeHTTPServer:
        return cast(FakeHTTPServer, self.server)

    def setup(self) -> None:
        super().setup()
        # Each event is one write; without NODELAY, Nagle could hold it back for an ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.fake.register(self.connection)

    def finish(self) -> None:
        self.fake.unregister(self.connection)
        try:
            super().finish()
        except _DISCONNECTS:
            pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _DISCONNECTS:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log on stderr."""

    def _serve(self) -> None:
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers=self._lowercase_headers(),
            body_bytes=self._read_body(),
        )
        reply = self.fake.route(request)
        if reply.frames is None:
            self._send_fixed(reply)
        else:
            self._send_stream(reply, reply.frames)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _lowercase_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return headers

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked_body()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked_body(self) -> bytes:
        parts: list[bytes] = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            parts.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF closing the chunk
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers are not recorded
        return b"".join(parts)

    def _send_head(self, reply: Reply, extra: Mapping[str, str]) -> None:
        self.send_response(reply.status)
        for name, value in {**reply.headers, **extra}.items():
            self.send_header(name, value)
        self.end_headers()

    def _send_fixed(self, reply: Reply) -> None:
        self._send_head(reply, {"content-length": str(len(reply.body))})
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _send_stream(self, reply: Reply, frames: tuple[bytes, ...]) -> None:
        stop = reply.cut_after if reply.cut_after is not None else reply.stall_after
        extra = {"transfer-encoding": "chunked", "cache-control": "no-cache"}
        if stop is not None:
            # A client must not reuse a connection the script is about to break.
            extra["connection"] = "close"
            self.close_connection = True
        self._send_head(reply, extra)
        for index, frame in enumerate(frames[:stop]):
            if index and reply.delay_s and self.fake.closing.wait(reply.delay_s):
                self.close_connection = True
                return  # the server is closing: end abruptly
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        if reply.stall_after is not None:
            self._wait_for_hang_up()
        elif not reply.abrupt:
            self.wfile.write(b"0\r\n\r\n")
        # An abrupt cut just returns: the connection closes without the final chunk.

    def _wait_for_hang_up(self) -> None:
        """Hold a stalled stream open until the client disconnects or the server closes."""
        try:
            while self.connection.recv(4096):
                pass  # the client has nothing to say mid-response; discard it
        except OSError:
            pass
