"""The server's HTTP/1.1 layer (h11) on raw sockets, and the Messages downstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import openai
import pytest

from pycodex.server.http_server import HttpRequest, HttpResponder, serve_connection
from support.fake_server import FakeModelServer
from support.serve import ServeHandle, running_serve
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"


async def exchange(port: int, raw: bytes) -> bytes:
    """Send raw bytes, then read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


async def test_keep_alive_and_pipelined_requests_on_one_connection(serve: ServeHandle) -> None:
    one = b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
    last = b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
    reply = await exchange(serve.server.port, one + one + last)
    assert reply.count(b"HTTP/1.1 200 OK") == 3
    assert reply.endswith(b'{"status":"ok"}')


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /health HTTP/2.0\r\nhost: 127.0.0.1\r\n\r\n", b"400"),
        (b"GET /health HTTP/1.1\r\n\r\n", b"400"),  # HTTP/1.1 requires Host
        (b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nno colon\r\n\r\n", b"400"),
        # A Unicode digit in Content-Length (latin-1 superscript two; UTF-8 Arabic-Indic three)
        (b"POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: \xb2\r\n\r\n", b"400"),
        (b"POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: \xd9\xa3\r\n\r\n", b"400"),
        (b"POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n", b"400"),
        (b"POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n", b"400"),
        (b"POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: gzip\r\n\r\n", b"501"),
        (b"POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 999999999999\r\n\r\n", b"413"),
        (b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: " + b"a" * 70_000 + b"\r\n\r\n", b"431"),
    ],
)  # fmt: skip
async def test_malformed_requests_get_a_status_and_a_closed_connection(
    serve: ServeHandle, raw: bytes, status: bytes
) -> None:
    reply = await exchange(serve.server.port, raw)
    assert reply.startswith(b"HTTP/1.1 " + status)
    assert b"connection: close" in reply.lower()


async def test_chunked_request_body_is_read(
    serve: ServeHandle, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("hi"), chat_chunk(finish_reason="stop")])
    body = b'{"model": "m", "input": "chunked hello"}'
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
    head = (
        b"POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    reply = await exchange(serve.server.port, head + chunks)
    assert reply.startswith(b"HTTP/1.1 200 OK")
    assert fake_server.requests[0].json()["messages"] == [
        {"role": "user", "content": "chunked hello"}
    ]


async def test_expect_continue_is_answered_before_the_body_is_sent(
    serve: ServeHandle, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("hi"), chat_chunk(finish_reason="stop")])
    body = b'{"model": "m", "input": "x"}'
    reader, writer = await asyncio.open_connection("127.0.0.1", serve.server.port)
    try:
        writer.write(
            b"POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            b"expect: 100-continue\r\nconnection: close\r\ncontent-length: %d\r\n\r\n" % len(body)
        )
        await writer.drain()
        interim = await reader.readuntil(b"\r\n\r\n")  # the server speaks first
        writer.write(body)
        await writer.drain()
        reply = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b"}")


async def test_http10_stream_is_delimited_by_closing(
    serve: ServeHandle, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("hi"), chat_chunk(finish_reason="stop")])
    body = b'{"model": "m", "input": "x", "stream": true}'
    head = b"POST /v1/responses HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
    reply = await exchange(serve.server.port, head % len(body) + body)
    head_part, _, stream = reply.partition(b"\r\n\r\n")
    assert head_part.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"transfer-encoding" not in head_part.lower()
    assert b"connection: close" in head_part.lower()
    assert stream.startswith(b"event: response.created\n")
    assert stream.rstrip().endswith(b"}") and b"event: response.completed" in stream


@asynccontextmanager
async def bare_server(**limits: Any) -> AsyncIterator[int]:
    """`serve_connection` alone, answering each request with the size of its body."""

    async def handler(request: HttpRequest, responder: HttpResponder) -> None:
        await responder.send(200, str(len(request.body)).encode())

    server = await asyncio.start_server(
        lambda r, w: serve_connection(r, w, handler, **limits), "127.0.0.1", 0
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_body_limit_holds_for_chunked_bodies() -> None:
    async with bare_server(max_body_bytes=16) as port:
        small = await exchange(port, POST_CHUNKED % (b"10", b"a" * 16))
        large = await exchange(port, POST_CHUNKED % (b"11", b"a" * 17))
    assert small.startswith(b"HTTP/1.1 200 OK") and small.endswith(b"\r\n\r\n16")
    assert large.startswith(b"HTTP/1.1 413 ")


POST_CHUNKED = (
    b"POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    b"%s\r\n%s\r\n0\r\n\r\n"
)


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.1\r\nhost: h\r\n"])
async def test_idle_and_unfinished_connections_are_closed(sent: bytes) -> None:
    async with bare_server(idle_timeout_s=0.2) as port:
        reply = await asyncio.wait_for(exchange(port, sent), timeout=30)
    assert reply == b""  # closed by the server without an answer


def anthropic_stream(text: str) -> list[dict[str, Any]]:
    usage = {"input_tokens": 9, "output_tokens": 0, "cache_read_input_tokens": 4}
    return [
        {"type": "message_start", "message": {"id": "msg_1", "usage": usage}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 2},
        },
        {"type": "message_stop"},
    ]


async def test_messages_downstream(fake_server: FakeModelServer, tmp_path: Path) -> None:
    fake_server.expect_sse("/v1/messages", anthropic_stream("Bonjour"))
    with running_serve(
        fake_server, tmp_path, store="memory", wire_api="messages", api_key="sk-ant"
    ) as serve:
        async with openai.AsyncOpenAI(
            base_url=serve.base_url, api_key="k", max_retries=0
        ) as client:
            stream = await client.responses.create(
                model="claude", input="Say hello in French", instructions="Be terse.", stream=True
            )
            events = [event async for event in stream]
    final = events[-1]
    assert final.type == "response.completed"
    assert final.response.output_text == "Bonjour"
    assert final.response.usage is not None and final.response.usage.input_tokens == 13
    request = fake_server.requests[0]
    assert request.headers["x-api-key"] == "sk-ant"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    sent = request.json()
    assert sent["system"] == "Be terse." and sent["max_tokens"] == 32000
