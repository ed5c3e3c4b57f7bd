"""The server's HTTP layer on raw sockets, the Messages downstream, and the stores."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from pycodex.server.store import MemoryResponseStore, SqliteResponseStore, StoredResponse
from support.fake_server import FakeModelServer
from support.serve import ServeHandle, running_serve
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"


@pytest.fixture
def serve(fake_server: FakeModelServer, tmp_path: Path) -> Iterator[ServeHandle]:
    with running_serve(fake_server, tmp_path, store="memory") as handle:
        yield handle


async def exchange(serve: ServeHandle, raw: bytes, until_close: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", serve.server.port)
    try:
        writer.write(raw)
        await writer.drain()
        return await reader.read() if until_close else await reader.read(65536)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_keep_alive_serves_two_requests_on_one_connection(serve: ServeHandle) -> None:
    one = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n"
    last = b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    reply = await exchange(serve, one + last)
    assert reply.count(b"HTTP/1.1 200 OK") == 2
    assert reply.endswith(b'{"status":"ok"}')


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /health HTTP/2.0\r\n\r\n", b"400"),
        (b"POST /v1/responses HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n", b"411"),
        (b"POST /v1/responses HTTP/1.1\r\ncontent-length: 999999999999\r\n\r\n", b"413"),
        (b"GET /health HTTP/1.1\r\nx-big: " + b"a" * 70_000 + b"\r\n\r\n", b"431"),
    ],
)
async def test_malformed_requests_are_refused(
    serve: ServeHandle, raw: bytes, status: bytes
) -> None:
    reply = await exchange(serve, raw)
    assert reply.startswith(b"HTTP/1.1 " + status)


async def test_expect_continue_and_http10_close_delimited_stream(
    serve: ServeHandle, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("hi"), chat_chunk(finish_reason="stop")])
    body = b'{"model": "m", "input": "x", "stream": true}'
    head = b"POST /v1/responses HTTP/1.0\r\ncontent-length: %d\r\nexpect: 100-continue\r\n\r\n"
    reply = await exchange(serve, head % len(body) + body)
    assert reply.startswith(b"HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n")
    assert b"transfer-encoding" not in reply and b"connection: close" in reply
    assert reply.rstrip().endswith(b"}") and b"event: response.completed" in reply


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


def stored(response_id: str) -> StoredResponse:
    return StoredResponse(response_id, 1, "m", [{"type": "message", "role": "user"}], [])


async def test_memory_store_forgets_the_oldest_first() -> None:
    store = MemoryResponseStore(max_entries=2)
    for name in ("a", "b", "c"):
        await store.put(stored(name))
    assert await store.get("a") is None
    assert (await store.get("c")) == stored("c")


async def test_sqlite_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "responses.sqlite"
    store = SqliteResponseStore(path)
    await store.put(stored("resp_1"))
    await store.close()
    reopened = SqliteResponseStore(path)
    assert await reopened.get("resp_1") == stored("resp_1")
    assert await reopened.get("resp_2") is None
    await reopened.close()
