"""The sockets `serve --workers` listens on (the processes themselves: tests/integration/test_serve.py)."""

from __future__ import annotations

import asyncio
import errno
import socket

import pytest

from pycodex.server import workers


async def test_worker_sockets_hand_out_connections_without_nagle() -> None:
    # asyncio turns Nagle off only on sockets created as IPPROTO_TCP; with Nagle on, every
    # streamed answer waited for the client's delayed ACK (~40 ms a request).
    listening = workers._socket(socket.AF_INET, ("127.0.0.1", 0), reuse_port=True)
    listening.listen()
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=listening)  # owns and closes it
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", listening.getsockname()[1])
        assert await asyncio.wait_for(seen, timeout=30) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_a_port_in_use_is_not_shared() -> None:
    # SO_REUSEPORT would let the workers join another program's socket on the same port.
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, workers._REUSE_PORT or socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(OSError) as caught:
            workers._reserve(socket.AF_INET, ("127.0.0.1", port)).close()
    assert caught.value.errno == errno.EADDRINUSE
