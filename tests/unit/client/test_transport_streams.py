"""The transport on long and small-write streams: one idle deadline per stream, bursts handed
over whole, content codings undone, and no delayed-ACK stall against servers that leave Nagle on."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import pytest

from pycodex.client.transport import HttpClient, ReadTimeout, RemoteProtocolError, Timeouts
from support import sse_builders as sse
from support.fake_server import FakeModelServer
from support.loopback import LoopbackServer, chunked, http_response

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
CHUNKED = {"Content-Length": "", "Transfer-Encoding": "chunked"}


async def test_the_read_timeout_is_the_longest_silence_not_the_whole_stream() -> None:
    # Six pieces 0.1 s apart: 0.6 s in all, never silent for the 0.35 s read timeout. An idle
    # deadline that is not moved on by each piece would fire in the middle.
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(headers=CHUNKED))
        for index in range(6):
            writer.write(chunked(b"piece %d\n" % index))
            await writer.drain()
            await asyncio.sleep(0.1)
        writer.write(b"0\r\n\r\n")

    async with LoopbackServer(handler) as server, HttpClient(timeouts=Timeouts(read=0.35)) as http:
        response = await http.get(server.url)
    assert response.content == b"".join(b"piece %d\n" % index for index in range(6))


async def test_a_silence_after_a_long_stream_still_times_out() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(headers=CHUNKED))
        for _ in range(5):
            writer.write(chunked(b"x"))
            await writer.drain()
            await asyncio.sleep(0.05)
        await asyncio.sleep(30)  # and then nothing

    received = b""
    async with (
        LoopbackServer(handler) as server,
        HttpClient(timeouts=Timeouts(read=0.3)) as http,
        http.stream("GET", server.url) as response,
    ):
        with pytest.raises(ReadTimeout, match=r"sent nothing for 0.3 s"):
            async for piece in response.aiter_bytes():
                received += piece
    assert received == b"xxxxx"


async def test_pieces_that_arrived_together_are_handed_over_as_one() -> None:
    events = [b"data: %d\n\n" % index for index in range(200)]

    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(headers=CHUNKED) + chunked(*events) + b"0\r\n\r\n")

    async with (
        LoopbackServer(handler) as server,
        HttpClient() as http,
        http.stream("GET", server.url) as response,
    ):
        pieces = [piece async for piece in response.aiter_bytes()]
    assert pieces == [b"".join(events)]  # one piece for 200 chunks, not 200 reads


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
        ("gzip, identity", gzip.compress),
    ],
)
async def test_gzip_and_deflate_bodies_are_decoded(coding: str, compress: object) -> None:
    assert callable(compress)
    text = b"event: response.output_text.delta\ndata: {}\n\n" * 200
    packed = compress(text)

    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        while await server.read_request(reader) is not None:
            if server.requests[-1].line.startswith("GET /stream"):
                halves = packed[: len(packed) // 2], packed[len(packed) // 2 :]
                headers = {**CHUNKED, "Content-Encoding": coding}
                writer.write(http_response(headers=headers) + chunked(*halves) + b"0\r\n\r\n")
            else:
                writer.write(http_response(packed, headers={"Content-Encoding": coding}))

    async with LoopbackServer(handler) as server, HttpClient() as http:
        whole = await http.get(server.url)
        async with http.stream("GET", f"{server.url}/stream") as response:
            streamed = b"".join([piece async for piece in response.aiter_bytes()])
    assert whole.content == text and streamed == text
    assert server.requests[0].headers["accept-encoding"] == "identity"


async def test_a_corrupt_gzip_body_is_a_remote_protocol_error() -> None:
    async def handler(server: LoopbackServer, reader: Reader, writer: Writer) -> None:
        await server.read_request(reader)
        writer.write(http_response(b"not gzip at all", headers={"Content-Encoding": "gzip"}))

    async with LoopbackServer(handler) as server, HttpClient() as http:
        with pytest.raises(RemoteProtocolError, match="sent a corrupt gzip body"):
            await http.get(server.url)


async def _reused_requests(server: FakeModelServer, count: int) -> float:
    """Seconds for `count` streamed requests on one kept-alive connection."""
    for _ in range(count + 1):
        server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    async with HttpClient() as http:
        await http.post(server.url("/v1/responses"), content=b"{}")  # opens the connection
        started = time.perf_counter()
        for _ in range(count):
            response = await http.post(server.url("/v1/responses"), content=b"{}")
            assert response.content.endswith(b"\n\n")
        return time.perf_counter() - started


async def test_no_delayed_ack_stall_on_reused_connections_to_a_nagle_server() -> None:
    # A server without TCP_NODELAY holds each event until its previous write is acknowledged.
    # With delayed ACKs every reused-connection response waited >= 40 ms (the kernel's minimum
    # ACK delay); with quick ACKs it is as fast as against a server with Nagle off. Both servers
    # are measured here, so load on the machine slows both alike; the margin is half the stall.
    count = 10
    with FakeModelServer(nodelay=False) as nagle, FakeModelServer(nodelay=True) as no_nagle:
        with_nagle = await _reused_requests(nagle, count)
        without_nagle = await _reused_requests(no_nagle, count)
    assert with_nagle - without_nagle < count * 0.020, (with_nagle, without_nagle)
