"""The request gate and the loopback proxy, driven by pycodex's own HTTP client against the
fake model server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.batch.options import ExecOptions
from pycodex.batch.request_gate import LocalRequestGate
from pycodex.batch.request_proxy import RequestProxy
from pycodex.batch.tasks import BatchTask
from pycodex.client.sse import aiter_sse
from pycodex.client.transport import HttpClient, Timeouts
from pycodex.config import ConfigOverrides, parse_cli_override, resolve_config
from support import sse_builders as sse
from support.cli import write_config
from support.fake_server import FakeModelServer

PATH = "/v1/responses"


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    async with HttpClient(timeouts=Timeouts(connect=10, read=30)) as client:
        yield client


class ObservedGate(LocalRequestGate):
    """The real gate, telling the test when it has taken a 429."""

    def __init__(self) -> None:
        super().__init__()
        self.limited = asyncio.Event()

    async def rate_limited(self, retry_after_s: float | None) -> None:
        await super().rate_limited(retry_after_s)
        self.limited.set()


async def started(gate: LocalRequestGate, **kw: Any) -> RequestProxy:
    proxy = RequestProxy(gate, **kw)
    await proxy.start()
    return proxy


async def post(http: HttpClient, url: str, **kw: Any) -> tuple[int, list[dict[str, Any]]]:
    async with http.stream("POST", url, content=b'{"stream": true}', **kw) as response:
        if response.status_code != 200:
            return response.status_code, [json.loads(await response.aread())]
        events = [json.loads(e.data) async for e in aiter_sse(response.aiter_bytes())]
    return response.status_code, events


async def test_a_stream_passes_through_with_its_headers(
    fake_server: FakeModelServer, http: HttpClient
) -> None:
    script = sse.assistant_reply("through the proxy")
    fake_server.expect_sse(PATH, script, headers={"x-request-id": "req-9"})
    proxy = await started(LocalRequestGate())
    try:
        url = proxy.prefix(fake_server.base_url) + "/responses?api-version=1"
        status, events = await post(http, url, headers={"authorization": "Bearer sk-x"})
    finally:
        await proxy.aclose()
    assert (status, events) == (200, script)
    [request] = fake_server.requests
    assert request.path == "/v1/responses?api-version=1"
    assert request.headers["authorization"] == "Bearer sk-x"
    assert request.headers["host"] == f"127.0.0.1:{fake_server.port}"
    assert request.json() == {"stream": True}


async def test_the_cap_holds_over_concurrent_requests(
    fake_server: FakeModelServer, http: HttpClient
) -> None:
    fake_server.expect_sse(PATH, sse.assistant_reply("ok"), repeat=True, latency_s=0.2)
    gate = LocalRequestGate(2)
    proxy = await started(gate)
    try:
        url = proxy.prefix(fake_server.base_url) + "/responses"
        answers = await asyncio.gather(*(post(http, url) for _ in range(6)))
    finally:
        await proxy.aclose()
    assert [status for status, _ in answers] == [200] * 6
    assert fake_server.peak_concurrent_requests == 2
    assert (gate.stats.requests, gate.stats.peak_in_flight, gate.in_flight) == (6, 2, 0)


async def test_a_429_pauses_everybody_and_the_proxy_sends_again(
    fake_server: FakeModelServer, http: HttpClient
) -> None:
    fake_server.expect_error(PATH, 429, {"error": {"message": "slow down"}},
                             headers={"retry-after": "0.4"})  # fmt: skip
    fake_server.expect_sse(PATH, sse.assistant_reply("ok"), repeat=True)
    gate = ObservedGate()
    proxy = await started(gate)
    try:
        url = proxy.prefix(fake_server.base_url) + "/responses"
        first = asyncio.create_task(post(http, url))
        await gate.limited.wait()
        limited_at = time.monotonic()
        later = await asyncio.gather(*(post(http, url) for _ in range(2)))
        waited = time.monotonic() - limited_at
        assert (await first)[0] == 200  # the client never saw the 429
    finally:
        await proxy.aclose()
    assert [status for status, _ in later] == [200, 200]
    assert waited >= 0.35  # held by the pause the 429 started (a lower bound: load only adds)
    assert len(fake_server.requests) == 4
    assert (gate.stats.rate_limited, gate.stats.requests) == (1, 4)


async def test_quota_errors_and_the_last_429_go_to_the_client(
    fake_server: FakeModelServer, http: HttpClient
) -> None:
    quota = {"error": {"type": "insufficient_quota", "message": "no money"}}
    fake_server.expect_error(PATH, 429, quota)
    fake_server.expect_error(
        PATH, 429, {"error": {"message": "busy"}}, headers={"retry-after": "0"}
    )
    fake_server.expect_error(PATH, 429, {"error": {"message": "still busy"}},
                             headers={"retry-after": "0"})  # fmt: skip
    proxy = await started(LocalRequestGate(), rate_limit_retries=1)
    try:
        url = proxy.prefix(fake_server.base_url) + "/responses"
        assert await post(http, url) == (429, [quota])
        assert await post(http, url) == (429, [{"error": {"message": "still busy"}}])
    finally:
        await proxy.aclose()


async def test_hanging_up_gives_the_slot_back(
    fake_server: FakeModelServer, http: HttpClient
) -> None:
    fake_server.expect_sse(PATH, sse.assistant_reply("never ends"), stall_after=1)
    fake_server.expect_sse(PATH, sse.assistant_reply("next"))
    gate = LocalRequestGate(1)
    proxy = await started(gate)
    try:
        url = proxy.prefix(fake_server.base_url) + "/responses"
        async with http.stream("POST", url, content=b"{}") as response:
            async for _ in aiter_sse(response.aiter_bytes()):
                break  # one event, then the client leaves (as exec does when it is stopped)
        async with asyncio.timeout(30):  # a leaked slot would block this request for good
            status, events = await post(http, url)
    finally:
        await proxy.aclose()
    assert (status, events[-1]["type"]) == (200, "response.completed")
    assert gate.in_flight == 0


async def test_an_unreachable_server_is_a_502(http: HttpClient) -> None:
    gate = LocalRequestGate()
    proxy = RequestProxy(gate)
    await proxy.start()
    try:
        closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
        status, [body] = await post(http, proxy.prefix(closed) + "/responses")
        unknown, _ = await post(http, f"http://127.0.0.1:{proxy.port}/u/7/responses")
    finally:
        await proxy.aclose()
    assert status == 502 and "model server unreachable" in body["error"]["message"]
    assert unknown == 404
    assert gate.in_flight == 0


async def test_overrides_send_exec_through_the_proxy(
    fake_server: FakeModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    write_config(home, fake_server)
    monkeypatch.setenv("CODEX_HOME", str(home))
    proxy = RequestProxy(LocalRequestGate())
    await proxy.start()
    try:
        task = BatchTask(id=1, prompt="x")
        overrides = proxy.overrides_for(ExecOptions(), task)
        openai = proxy.overrides_for(ExecOptions(config=('model_provider="openai"',)), task)
        broken = proxy.overrides_for(ExecOptions(profile="missing"), task)
    finally:
        await proxy.aclose()
    prefix = f"http://127.0.0.1:{proxy.port}/u/0"
    assert overrides == ["-c", f'model_providers.fake.base_url="{prefix}"']
    pairs = [parse_cli_override(overrides[1])]
    config = resolve_config(ConfigOverrides(cli_overrides=pairs), env={"CODEX_HOME": str(home)})
    assert config.model_provider.base_url == prefix
    assert openai == ["-c", f'openai_base_url="http://127.0.0.1:{proxy.port}/u/1"']
    assert broken == []  # exec will say what is wrong with the profile


async def test_the_gate_backs_off_more_after_each_429_in_a_row() -> None:
    gate = LocalRequestGate(first_backoff_s=0.05, max_backoff_s=0.15)
    for _ in range(3):
        await gate.rate_limited(None)
    started = time.monotonic()
    await gate.acquire()
    assert time.monotonic() - started >= 0.1  # the third 429 in a row: 0.05 * 4, capped at 0.15
    await gate.release()
    await gate.succeeded()
    await gate.rate_limited(None)
    assert gate.stats.rate_limited == 4
    assert 0.15 <= gate.stats.paused_s <= 0.3
