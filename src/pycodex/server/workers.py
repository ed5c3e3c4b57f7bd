"""`pycodex serve --workers N`: N server processes answering on one port.

The parent process prepares what the workers share (the signing key, the SQLite store's schema, the
trajectory file), checks that the port is free and reserves it, then forks the workers. Each worker
binds its own listening socket to that port with `SO_REUSEPORT`, so the kernel spreads new
connections evenly over the workers (where the option is missing, all workers accept from the
parent's one socket instead), and runs an ordinary `ResponsesServer` on it. Stored responses live
in the SQLite file, which every worker opens for itself: WAL mode and a busy timeout make that
safe. The memory store lives inside one process and cannot be shared.

The parent does nothing else while they run. On SIGINT or SIGTERM it asks every worker to stop
(SIGTERM: each finishes its in-flight responses for up to `SHUTDOWN_GRACE_S`, as a single server
does) and waits for them; a worker that outlives `STOP_TIMEOUT_S` is killed. A worker that dies on
its own stops the others too: the server exits 1 rather than serve with fewer workers unnoticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from pycodex.server.compaction import load_or_create_secret
from pycodex.server.errors import ServeSetupError
from pycodex.server.private_files import open_private_append
from pycodex.server.runner import (
    LISTEN_BACKLOG,
    SHUTDOWN_GRACE_S,
    ResponsesServer,
    ServeOptions,
    open_store,
)

logger = logging.getLogger("pycodex.server")

STOP_TIMEOUT_S = SHUTDOWN_GRACE_S + 8.0
_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}
_REUSE_PORT = getattr(socket, "SO_REUSEPORT", None)


def serve_with_workers(options: ServeOptions, workers: int, on_ready: Callable[[str], None]) -> int:
    """Run `workers` server processes until SIGINT/SIGTERM; the exit code (0: stopped as asked).

    `on_ready` gets the base URL once every worker listens. Raises `ServeSetupError` for what the
    workers cannot start with, `OSError` when the port cannot be bound.
    """
    if options.store == "memory":
        raise ServeSetupError(
            "--workers needs --store sqlite: the memory store lives in one process and "
            "previous_response_id would find a response only on the worker that stored it"
        )
    _prepare_shared_state(options)
    family, address = _address(options.host, options.port)
    reserved = _reserve(family, address)
    port = int(reserved.getsockname()[1])
    base_url = f"http://{options.host}:{port}/v1"
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    ready_read, ready_write = os.pipe()
    pids: list[int] = []
    try:
        for index in range(workers):
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                os.close(ready_read)
                _worker_process(index, options, reserved, (family, address[0], port), ready_write)
            pids.append(pid)
        os.close(ready_write)
        reserved.close()
        return asyncio.run(_supervise(pids, ready_read, lambda: on_ready(base_url)))
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _prepare_shared_state(options: ServeOptions) -> None:
    """What every worker would otherwise race to create, made once (and checked) up front."""
    load_or_create_secret(options.serve_dir / "secret")
    store = open_store(options)
    asyncio.run(store.close())
    if options.trajectory_file is not None:
        try:
            os.close(open_private_append(options.trajectory_file))
        except OSError as err:
            path = options.trajectory_file
            raise ServeSetupError(f"cannot open the trajectory file {path}: {err}") from None


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return family, (str(address[0]), int(address[1]))


def _reserve(family: socket.AddressFamily, address: tuple[str, int]) -> socket.socket:
    """A socket holding the port for the workers.

    With `SO_REUSEPORT`, a plain bind first proves the port free (a socket of another program
    that also set the option would otherwise share it with us), then the reserving socket binds
    with the option, without listening, so the kernel sends it no connections.
    """
    if _REUSE_PORT is None:
        shared = _socket(family, address, reuse_port=False)
        shared.listen(LISTEN_BACKLOG)
        return shared
    probe = _socket(family, address, reuse_port=False)
    chosen = (address[0], int(probe.getsockname()[1]))
    probe.close()
    return _socket(family, chosen, reuse_port=True)


def _socket(
    family: socket.AddressFamily, address: tuple[str, int], *, reuse_port: bool
) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every streamed answer waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port and _REUSE_PORT is not None:
            sock.setsockopt(socket.SOL_SOCKET, _REUSE_PORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def _worker_process(
    index: int,
    options: ServeOptions,
    reserved: socket.socket,
    where: tuple[socket.AddressFamily, str, int],
    ready_write: int,
) -> None:
    code = 1
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        if _REUSE_PORT is None:
            listening = reserved
        else:
            reserved.close()
            family, host, port = where
            listening = _socket(family, (host, port), reuse_port=True)
            listening.listen(LISTEN_BACKLOG)
        code = asyncio.run(_worker(options, listening, ready_write))
    except BaseException:  # the worker must never return into the parent's code
        traceback.print_exc()
        sys.stderr.write(f"pycodex serve: worker {index} failed\n")
    finally:
        with contextlib.suppress(OSError):
            sys.stderr.flush()
        os._exit(code)


async def _worker(options: ServeOptions, listening: socket.socket, ready_write: int) -> int:
    server = ResponsesServer(options)
    try:
        await server.start(listening)
    except ServeSetupError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    os.write(ready_write, b"r")
    os.close(ready_write)
    try:
        await stop.wait()
    finally:
        await server.close()
    return 0


async def _supervise(pids: list[int], ready_read: int, on_ready: Callable[[], None]) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    exited: dict[int, int] = {}
    changed = asyncio.Event()

    def reap() -> None:
        for pid in pids:
            if pid not in exited:
                with contextlib.suppress(ChildProcessError):
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        exited[pid] = os.waitstatus_to_exitcode(status)
        changed.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGCHLD, reap)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    reap()  # a worker may have died before the handler was in place
    ready = await _all_ready(loop, ready_read, len(pids), stop, exited, changed)
    if ready:
        on_ready()
        while not stop.is_set() and not exited:
            changed.clear()
            await _first(stop.wait(), changed.wait())
    failed = dict(exited)  # the workers that ended before they were asked to
    await _stop_all(pids, exited, changed)
    if failed:
        for pid, code in failed.items():
            logger.error("pycodex serve: worker process %d exited with code %d", pid, code)
        return max(failed.values()) if not ready else 1
    return 0


async def _all_ready(
    loop: asyncio.AbstractEventLoop,
    ready_read: int,
    count: int,
    stop: asyncio.Event,
    exited: dict[int, int],
    changed: asyncio.Event,
) -> bool:
    got = 0
    readable = asyncio.Event()
    loop.add_reader(ready_read, readable.set)
    try:
        while got < count:
            if stop.is_set() or exited:
                return False
            readable.clear()
            changed.clear()
            await _first(readable.wait(), changed.wait(), stop.wait())
            if readable.is_set():
                data = os.read(ready_read, count)
                if not data:  # every worker closed its end: they are gone, SIGCHLD will say so
                    loop.remove_reader(ready_read)
                    await _first(changed.wait(), stop.wait())
                got += len(data)
        return True
    finally:
        loop.remove_reader(ready_read)
        os.close(ready_read)


async def _stop_all(pids: list[int], exited: dict[int, int], changed: asyncio.Event) -> None:
    _signal_all(pids, exited, signal.SIGTERM)
    if not await _exits(pids, exited, changed, STOP_TIMEOUT_S):
        _signal_all(pids, exited, signal.SIGKILL)
        await _exits(pids, exited, changed, STOP_TIMEOUT_S)


def _signal_all(pids: list[int], exited: dict[int, int], signum: signal.Signals) -> None:
    for pid in pids:
        if pid not in exited:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


async def _exits(
    pids: list[int], exited: dict[int, int], changed: asyncio.Event, timeout_s: float
) -> bool:
    """Wait until every worker was reaped (the SIGCHLD handler fills `exited`)."""
    try:
        async with asyncio.timeout(timeout_s):
            while len(exited) < len(pids):
                changed.clear()
                await changed.wait()
    except TimeoutError:
        return False
    return True


async def _first(*waits: Coroutine[Any, Any, object]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
