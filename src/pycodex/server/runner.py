"""`ResponsesServer`: the compat server's lifecycle, from `ServeOptions` to a listening socket.

`start()` builds the shared pieces (one `transport.HttpClient` for every downstream request, the
response store, the compaction secret, the trajectory log) and binds the socket; `close()` stops
accepting, ends open connections and releases everything, in the reverse order.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Literal

from pycodex._records import dataclass, field
from pycodex.client.transport import HttpClient, Timeouts
from pycodex.server.access import AccessPolicy
from pycodex.server.app import ServeApp
from pycodex.server.backend import Downstream, DownstreamTarget
from pycodex.server.compaction import load_or_create_secret
from pycodex.server.errors import ServeSetupError
from pycodex.server.http_server import serve_connection
from pycodex.server.responses_route import ServeContext
from pycodex.server.sqlite_store import SqliteResponseStore
from pycodex.server.store import MemoryResponseStore, ResponseStore, StoreLimits
from pycodex.server.trajectory import TrajectoryLog

logger = logging.getLogger("pycodex.server")

StoreKind = Literal["sqlite", "memory"]
SERVE_DIR = "serve"
# Bursts of clients connecting at once (an eval harness starting 64 rollouts) must not overflow
# the accept queue: the kernel would drop or reset those connections.
LISTEN_BACKLOG = 1024


@dataclass(frozen=True)
class ServeOptions:
    """Everything `pycodex serve` was asked to do. Holds secrets: never log it whole."""

    target: DownstreamTarget
    codex_home: Path
    host: str = "127.0.0.1"
    port: int = 8790
    auth_token: str | None = field(default=None, repr=False)
    store: StoreKind = "sqlite"
    trajectory_file: Path | None = None
    keep_alive_s: float = 10.0
    connect_timeout_s: float = 10.0
    allowed_hosts: tuple[str, ...] = ()
    """`Host` names accepted besides IP literals and localhost (`*`: any); see `access`."""
    allowed_origins: tuple[str, ...] = ()
    """Browser origins accepted besides this machine's (`*`: any)."""
    store_limits: StoreLimits = field(default_factory=StoreLimits)

    @property
    def serve_dir(self) -> Path:
        return self.codex_home / SERVE_DIR


SHUTDOWN_GRACE_S = 2.0


class ResponsesServer:
    def __init__(self, options: ServeOptions, http: HttpClient | None = None) -> None:
        self.options = options
        self._http = http
        self._owns_http = http is None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._ctx: ServeContext | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL clients use: `http://HOST:PORT/v1`."""
        return f"http://{self.options.host}:{self.port}/v1"

    async def start(self, sock: socket.socket | None = None) -> None:
        """Listen on `options.host:port`, or on `sock` (bound: one process of `--workers`)."""
        self._ctx = await self._build_context()
        access = AccessPolicy.of(self.options.allowed_hosts, self.options.allowed_origins)
        app = ServeApp(self._ctx, self.options.auth_token, access)

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._connections.add(task)
            try:
                await serve_connection(reader, writer, app.handle)
            except asyncio.CancelledError:
                # Only `close()` cancels these tasks. Ending quietly matters: on 3.11, asyncio's
                # stream protocol asks a finished connection task for its exception and logs a
                # traceback when the task was cancelled.
                pass
            finally:
                self._connections.discard(task)

        if sock is not None:
            self._server = await asyncio.start_server(
                on_connection, sock=sock, backlog=LISTEN_BACKLOG
            )
            return
        self._server = await asyncio.start_server(
            on_connection, self.options.host, self.options.port, backlog=LISTEN_BACKLOG
        )

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._connections:
            # A response whose last event already went out may still be storing its record
            # or writing its trajectory line: let in-flight work finish before cancelling.
            await asyncio.wait(list(self._connections), timeout=SHUTDOWN_GRACE_S)
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._ctx is not None:
            await self._ctx.store.close()
            if self._ctx.trajectory is not None:
                await self._ctx.trajectory.close()
            self._ctx = None
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _build_context(self) -> ServeContext:
        options = self.options
        if self._http is None:
            self._http = _shared_client(options)
        secret = await asyncio.to_thread(load_or_create_secret, options.serve_dir / "secret")
        store = await asyncio.to_thread(open_store, options)
        trajectory = None
        if options.trajectory_file is not None:
            try:
                trajectory = TrajectoryLog(options.trajectory_file)
            except OSError as err:
                await store.close()
                path = options.trajectory_file
                raise ServeSetupError(f"cannot open the trajectory file {path}: {err}") from None
        return ServeContext(
            downstream=Downstream(options.target, self._http),
            store=store,
            secret=secret,
            trajectory=trajectory,
            keep_alive_s=options.keep_alive_s,
        )


def open_store(options: ServeOptions) -> ResponseStore:
    if options.store == "memory":
        return MemoryResponseStore(options.store_limits)
    return SqliteResponseStore(options.serve_dir / "responses.sqlite", options.store_limits)


def _shared_client(options: ServeOptions) -> HttpClient:
    # The pool never caps open connections, so streams never queue behind each other: each open
    # client stream holds one downstream connection for its whole life. Up to 256 idle ones are
    # kept for the next requests. The read timeout is the downstream idle timeout.
    timeouts = Timeouts(connect=options.connect_timeout_s, read=options.target.idle_timeout_s)
    return HttpClient(timeouts=timeouts, max_idle_per_route=256)
