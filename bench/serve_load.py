"""The serve bench's two helper processes: a canned model server and a load generator.

    python -m bench.serve_load downstream
        A Chat Completions server on 127.0.0.1 (port printed on stdout) that answers every
        `POST .../chat/completions` with the same stream: 20 content chunks, a finish chunk, a
        usage chunk and `[DONE]`, one write each, TCP_NODELAY, keep-alive, backlog 1024. Nothing
        is scripted or recorded: it costs as little CPU per request as an asyncio server can, so
        the bench measures the proxy in front of it, not the stand-in.

    python -m bench.serve_load generate URL BODY_FILE CLIENTS REQUESTS [THINK_S]
        CLIENTS simulated clients, each with its own keep-alive connection, each sending
        REQUESTS streamed POSTs one after the other and reading every answer to its last byte
        (`Authorization: Bearer $SERVE_LOAD_TOKEN`, default `sk-bench`). With THINK_S, each
        client waits between its requests (exponentially distributed, THINK_S on average), as
        an agent runs its tools between model calls; the first request comes after such a wait
        too, so the clients do not start in step.
        It connects, prints `ready`, waits for `go` on stdin, runs, and prints one JSON line:
        `{"latencies": [...seconds...], "started": t0, "ended": t1, "errors": [...]}` with
        CLOCK_MONOTONIC times, which are comparable across processes on Linux.

Both speak just enough HTTP/1.1 for this: Content-Length requests, chunked or Content-Length
answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import sys
import time
from urllib.parse import urlsplit

_WORDS = 20
_BACKLOG = 1024


def _chat_stream() -> list[bytes]:
    def chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": "c", "object": "chat.completion.chunk", "model": "m", "choices": [choice]}

    events: list[object] = [
        chunk({"role": "assistant", "content": "word0 "} if i == 0 else {"content": f"word{i} "})
        for i in range(_WORDS)
    ]
    events.append(chunk({}, "stop"))
    usage = {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}
    events.append({"id": "c", "object": "chat.completion.chunk", "choices": [], "usage": usage})
    frames = [b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events]
    frames.append(b"data: [DONE]\n\n")
    return [b"%x\r\n%s\r\n" % (len(f), f) for f in frames] + [b"0\r\n\r\n"]


_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
_MODELS = b'{"object":"list","data":[{"id":"m","object":"model"}]}'


class _Downstream(asyncio.Protocol):
    stream = _chat_stream()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self._answer(head.split(" ", 2)[1])

    def _answer(self, path: str) -> None:
        if path.endswith("/models"):
            self.transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                % (len(_MODELS), _MODELS)
            )
            return
        self.transport.write(_STREAM_HEAD)
        for frame in self.stream:
            self.transport.write(frame)


async def _serve_downstream() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Downstream, "127.0.0.1", 0, backlog=_BACKLOG)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    if status != b"200":
        raise RuntimeError(f"status {status.decode()}")
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                return b"".join(parts)
            parts.append((await reader.readexactly(size + 2))[:-2])
    length = int(lowered.split(b"content-length:")[1].split(b"\r\n")[0])
    return await reader.readexactly(length)


async def _client(
    url: str,
    body: bytes,
    requests: int,
    barrier: asyncio.Barrier,
    go: asyncio.Event,
    out: list[float],
    errors: list[str],
    think_s: float,
) -> None:
    parts = urlsplit(url)
    token = os.environ.get("SERVE_LOAD_TOKEN", "sk-bench")
    try:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    except OSError as err:
        errors.append(f"connect: {err}")
        await barrier.wait()
        return
    await barrier.wait()
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = (
        f"POST {parts.path} HTTP/1.1\r\nhost: {parts.netloc}\r\n"
        f"content-type: application/json\r\nauthorization: Bearer {token}\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body
    await go.wait()
    pause = random.Random(id(writer))
    try:
        for _ in range(requests):
            if think_s:
                await asyncio.sleep(pause.expovariate(1 / think_s))
            started = time.monotonic()
            writer.write(request)
            answer = await _read_answer(reader)
            if b"response.completed" not in answer and b"[DONE]" not in answer:
                errors.append("an answer without its terminal event")
            out.append(time.monotonic() - started)
    except (OSError, RuntimeError, asyncio.IncompleteReadError, ValueError) as err:
        errors.append(f"{type(err).__name__}: {err}")
    finally:
        writer.close()


async def _generate(url: str, body: bytes, clients: int, requests: int, think_s: float) -> None:
    go = asyncio.Event()
    connected = asyncio.Barrier(clients + 1)
    latencies: list[float] = []
    errors: list[str] = []
    tasks = [
        asyncio.create_task(_client(url, body, requests, connected, go, latencies, errors, think_s))
        for _ in range(clients)
    ]
    await connected.wait()  # every client has its connection open
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    started = time.monotonic()
    go.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    ended = time.monotonic()
    result = {"latencies": latencies, "started": started, "ended": ended, "errors": errors[:5]}
    print(json.dumps(result), flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["downstream"]:
        asyncio.run(_serve_downstream())
        return 0
    if argv[:1] == ["generate"] and len(argv) in (5, 6):
        url, body_file, clients, requests = argv[1:5]
        think_s = float(argv[5]) if len(argv) == 6 else 0.0
        with open(body_file, "rb") as file:
            body = file.read()
        asyncio.run(_generate(url, body, int(clients), int(requests), think_s))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
