"""`pycodex serve`: latency it adds per request, and streamed responses per second under load.

Method: the fake model server (in this process) serves one scripted Chat Completions stream per
request: 20 content chunks, a finish chunk and a usage chunk. `pycodex serve` runs as its own
process (the real CLI module, `--store memory`) in front of it. The baseline is the same stream
read straight from the fake with the same `httpx.AsyncClient`; the measured path is
`POST /v1/responses` with `stream: true` through the server, read to its last byte.

- Added latency: sequential requests, p50 and p99 of (through serve) minus p50/p99 of (direct).
- Throughput: completed streamed responses per second with 1, 16 and 64 concurrent clients, a
  fixed number of requests per client, against the same baseline.

Everything runs on 127.0.0.1; the fake, the client and the server share the machine's cores, so
the figures are a floor for the server, not a ceiling.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, Table, use_test_support

LATENCY_REQUESTS = 300
CONCURRENCY = (1, 16, 64)
REQUESTS_PER_CLIENT = 16
CHAT = "/v1/chat/completions"


def _script(server: Any, count: int) -> None:
    from support.sse_builders import chat_chunk

    chunks = [chat_chunk(f"word{i} ", role="assistant" if i == 0 else None) for i in range(20)]
    usage = {"prompt_tokens": 50, "completion_tokens": 20}
    chunks += [
        chat_chunk(finish_reason="stop"),
        {"id": "u", "object": "chat.completion.chunk", "choices": [], "usage": usage},
    ]
    for _ in range(count):
        server.expect_chat_stream(CHAT, chunks)


async def _read_stream(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    async with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        async for _chunk in response.aiter_raw():
            pass
    return time.perf_counter() - started


def _targets(
    fake: Any, serve_url: str
) -> dict[str, Callable[[httpx.AsyncClient], Awaitable[float]]]:
    chat_body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    responses_body = {"model": "m", "input": "hi", "stream": True, "store": False}
    return {
        "direct": lambda client: _read_stream(client, fake.url(CHAT), chat_body),
        "serve": lambda client: _read_stream(client, f"{serve_url}/responses", responses_body),
    }


async def _sequential(
    work: Callable[[httpx.AsyncClient], Awaitable[float]], count: int
) -> list[float]:
    async with httpx.AsyncClient(timeout=30) as client:
        await work(client)  # warm-up: connections, imports, caches
        return [await work(client) for _ in range(count - 1)]


async def _concurrent(work: Callable[[httpx.AsyncClient], Awaitable[float]], clients: int) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one_client() -> None:
            for _ in range(REQUESTS_PER_CLIENT):
                await work(client)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return clients * REQUESTS_PER_CLIENT / (time.perf_counter() - started)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _start_serve(fake: Any, home: Path) -> tuple[subprocess.Popen[str], str]:
    argv = [
        sys.executable, "-m", "pycodex.cli.serve_command", "--downstream-url", fake.base_url,
        "--port", "0", "--store", "memory", "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "CODEX_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    banner = proc.stderr.readline()
    if "listening on " not in banner:
        proc.kill()
        raise RuntimeError(f"pycodex serve did not start: {banner}")
    return proc, banner.split("listening on ", 1)[1].split()[0]


def _measure_latency(table: Table, fake: Any, serve_url: str) -> None:
    targets = _targets(fake, serve_url)
    samples: dict[str, list[float]] = {}
    for name, work in targets.items():
        _script(fake, LATENCY_REQUESTS)
        samples[name] = asyncio.run(_sequential(work, LATENCY_REQUESTS))
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        direct = _percentile(samples["direct"], fraction) * 1000
        served = _percentile(samples["serve"], fraction) * 1000
        table.add(
            f"serve: added latency {label}",
            f"{served - direct:.2f} ms",
            f"through serve {served:.2f} ms, direct {direct:.2f} ms ({LATENCY_REQUESTS - 1} "
            "sequential streamed requests)",
        )
    mean = statistics.mean(samples["serve"]) / statistics.mean(samples["direct"])
    table.add("serve: mean request time vs direct", f"{mean:.2f}x", "1x would be free")


def _measure_throughput(table: Table, fake: Any, serve_url: str) -> None:
    targets = _targets(fake, serve_url)
    for clients in CONCURRENCY:
        rates: dict[str, float] = {}
        for name, work in targets.items():
            _script(fake, clients * REQUESTS_PER_CLIENT)
            rates[name] = asyncio.run(_concurrent(work, clients))
        table.add(
            f"serve: streamed responses/s, {clients} concurrent",
            f"{rates['serve']:.0f}/s",
            f"direct {rates['direct']:.0f}/s; {clients * REQUESTS_PER_CLIENT} requests",
        )


def run(table: Table) -> None:
    use_test_support()
    from support import fake_http
    from support.fake_server import FakeModelServer

    # socketserver's default accept queue (5) resets bursts of 64 connects; a real model server
    # listens with a deep queue, so the stand-in does too.
    fake_http.FakeHTTPServer.request_queue_size = 1024
    with tempfile.TemporaryDirectory() as home, FakeModelServer() as fake:
        proc, serve_url = _start_serve(fake, Path(home))
        try:
            _measure_latency(table, fake, serve_url)
            _measure_throughput(table, fake, serve_url)
        finally:
            proc.terminate()
            proc.communicate(timeout=30)


if __name__ == "__main__":
    results = Table()
    run(results)
    print(results.render())
