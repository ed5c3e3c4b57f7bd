"""Tests of the fake model server itself, driven by a real httpx client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from pycodex.client.sse import aiter_sse

from .fake_server import UNEXPECTED_STATUS, FakeModelServer
from .sse_builders import (
    assistant_reply,
    chat_chunk,
    completed,
    failed,
    function_call,
    tool_calls,
)


async def read_events(response: httpx.Response, into: list[dict[str, Any]]) -> None:
    """Decode a Responses stream into `into`, so events read before an error stay visible."""
    async for event in aiter_sse(response.aiter_bytes()):
        into.append(json.loads(event.data))


@asynccontextmanager
async def open_stream(
    base_url: str, client_timeout: httpx.Timeout | None = None
) -> AsyncIterator[httpx.Response]:
    """POST /responses on a fresh client and yield the response, still streaming."""
    async with (
        httpx.AsyncClient(
            base_url=base_url, timeout=client_timeout or httpx.Timeout(10.0)
        ) as client,
        client.stream("POST", "/responses", json={"stream": True}) as response,
    ):
        yield response


async def post_stream(
    client: httpx.AsyncClient, path: str = "/responses"
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    async with client.stream("POST", path, json={"stream": True}) as response:
        await read_events(response, events)
    return response, events


async def test_sse_stream_is_read_back_and_recorded(fake_server: FakeModelServer) -> None:
    script = assistant_reply("Hello there, world", response_id="resp_9")
    fake_server.expect_sse("/v1/responses", script, headers={"x-request-id": "req_1"})
    async with httpx.AsyncClient(base_url=fake_server.base_url) as client:
        events: list[dict[str, Any]] = []
        async with client.stream(
            "POST",
            "/responses",
            json={"model": "m", "stream": True},
            headers={"Authorization": "Bearer sk-test", "Session-Id": "s1"},
        ) as response:
            assert response.headers["content-type"] == "text/event-stream"
            assert response.headers["x-request-id"] == "req_1"
            await read_events(response, events)
    assert events == script
    [request] = fake_server.requests
    assert (request.method, request.path) == ("POST", "/v1/responses")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["session-id"] == "s1"
    assert request.json() == {"model": "m", "stream": True}


async def test_scripts_are_fifo_per_path_over_one_connection(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_error("/v1/responses", 500, {"error": {"message": "boom"}})
    fake_server.expect_json("/v1/models", {"data": [{"id": "m1"}]})
    fake_server.expect_sse("/v1/responses", tool_calls(function_call("shell", "{}")))
    async with httpx.AsyncClient(base_url=fake_server.base_url) as client:
        first = await client.post("/responses", json={})
        models = await client.get("/models", params={"client_version": "1.0"})
        _, events = await post_stream(client)
    assert first.status_code == 500
    assert first.json() == {"error": {"message": "boom"}}
    assert models.json() == {"data": [{"id": "m1"}]}
    assert events[-1]["type"] == "response.completed"
    paths = [r.path for r in fake_server.requests]
    assert paths == ["/v1/responses", "/v1/models?client_version=1.0", "/v1/responses"]


async def test_cut_stream_ends_cleanly_without_terminal_event(
    fake_server: FakeModelServer,
) -> None:
    script = assistant_reply("one two three")
    fake_server.expect_sse("/v1/responses", script, cut_after=3)
    fake_server.expect_sse("/v1/responses", script)
    async with httpx.AsyncClient(base_url=fake_server.base_url) as client:
        _, cut = await post_stream(client)
        _, retried = await post_stream(client)  # the retry must not trip over the dead socket
    assert cut == script[:3]
    assert retried == script


async def test_abrupt_cut_is_a_transport_error(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", assistant_reply("a b c"), cut_after=2, abrupt=True)
    events: list[dict[str, Any]] = []
    async with open_stream(fake_server.base_url) as response:
        with pytest.raises(httpx.RemoteProtocolError):
            await read_events(response, events)
    assert [e["type"] for e in events] == ["response.created", "response.in_progress"]


async def test_stall_trips_the_client_read_timeout(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", assistant_reply("x y"), stall_after=2)
    events: list[dict[str, Any]] = []
    timeout = httpx.Timeout(10.0, read=0.2)
    async with open_stream(fake_server.base_url, timeout) as response:
        with pytest.raises(httpx.ReadTimeout):
            await read_events(response, events)
    assert len(events) == 2


async def test_close_unblocks_a_stalled_stream() -> None:
    server = FakeModelServer().start()
    server.expect_sse("/v1/responses", assistant_reply("x"), stall_after=1)
    async with open_stream(server.base_url) as response:
        stream = aiter_sse(response.aiter_bytes())
        first = await anext(stream)
        assert json.loads(first.data)["type"] == "response.created"
        # close() joins the server threads, which must not depend on this event loop running.
        await asyncio.to_thread(server.close)
        with pytest.raises(httpx.RemoteProtocolError):
            await anext(stream)
        await stream.aclose()
    server.assert_done()


async def test_delayed_events_all_arrive(fake_server: FakeModelServer) -> None:
    script = [*assistant_reply("slow")[:-1], failed("server_error", "overloaded")]
    fake_server.expect_sse("/v1/responses", script, delay_s=0.005)
    async with httpx.AsyncClient(base_url=fake_server.base_url) as client:
        _, events = await post_stream(client)
    assert events == script


async def test_error_injection(fake_server: FakeModelServer) -> None:
    quota = {"error": {"type": "insufficient_quota", "message": "You exceeded your quota"}}
    fake_server.expect_error("/v1/responses", 429, {"error": {}}, headers={"Retry-After": "2"})
    fake_server.expect_error("/v1/responses", 429, quota)
    fake_server.expect_error("/v1/responses", 400, "bad request, plainly")
    async with httpx.AsyncClient(base_url=fake_server.base_url) as client:
        limited = await client.post("/responses")
        out_of_quota = await client.post("/responses")
        bad = await client.post("/responses")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
    assert out_of_quota.json() == quota
    assert (bad.status_code, bad.text) == (400, "bad request, plainly")
    assert bad.headers["content-type"].startswith("text/plain")


async def test_raw_frames_pass_through(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", [b": keep-alive\n\n", completed(), b"data: {oops\n\n"])
    async with open_stream(fake_server.base_url) as response:
        data = [event.data async for event in aiter_sse(response.aiter_bytes())]
    assert json.loads(data[0])["type"] == "response.completed"
    assert data[1] == "{oops"


async def test_chat_stream_ends_with_done(fake_server: FakeModelServer) -> None:
    chunks = [chat_chunk(role="assistant"), chat_chunk("Hi"), chat_chunk(finish_reason="stop")]
    fake_server.expect_chat_stream("/v1/chat/completions", chunks)
    fake_server.expect_chat_stream("/v1/chat/completions", chunks, cut_after=2)
    async with httpx.AsyncClient(base_url=fake_server.base_url) as client:
        streams = []
        for _ in range(2):
            async with client.stream("POST", "/chat/completions") as response:
                streams.append([e async for e in aiter_sse(response.aiter_bytes())])
    full, cut = streams
    assert [e.event for e in full] == ["message"] * 4
    assert [json.loads(e.data) for e in full[:3]] == chunks
    assert full[3].data == "[DONE]"
    assert [json.loads(e.data) for e in cut] == chunks[:2]


async def test_unexpected_request_is_answered_loudly_and_reported() -> None:
    server = FakeModelServer().start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            response = await client.post("/nope", json={"x": 1})
    finally:
        server.close()
    assert response.status_code == UNEXPECTED_STATUS
    assert "unexpected request POST /v1/nope" in response.json()["error"]["message"]
    assert [r.json() for r in server.unexpected_requests] == [{"x": 1}]
    assert len(server.errors) == 1
    with pytest.raises(AssertionError, match="unexpected request POST /v1/nope"):
        server.assert_done()


async def test_surplus_request_on_a_scripted_path_is_unexpected() -> None:
    server = FakeModelServer().start()
    server.expect_json("/v1/models", {"data": []})
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            assert (await client.get("/models")).status_code == 200
            assert (await client.get("/models")).status_code == UNEXPECTED_STATUS
    finally:
        server.close()
    with pytest.raises(AssertionError, match="no script left"):
        server.assert_done()


def test_leftover_scripts_are_reported_in_order() -> None:
    server = FakeModelServer().start()
    server.expect_sse("/v1/responses", assistant_reply("never sent"))
    server.expect_json("/v1/models", {"data": []})
    server.close()
    assert server.pending_scripts() == [
        "#1 POST /v1/responses (sse)",
        "#2 GET /v1/models (json)",
    ]
    with pytest.raises(AssertionError, match=r"never requested: #1 POST /v1/responses"):
        server.assert_done()


def test_context_manager_checks_for_leftovers_on_clean_exit() -> None:
    with pytest.raises(AssertionError, match="never requested"), FakeModelServer() as server:
        server.expect_json("/v1/models", {"data": []})


def test_script_arguments_are_validated(fake_server: FakeModelServer) -> None:
    events = assistant_reply("x")
    with pytest.raises(ValueError, match="mutually exclusive"):
        fake_server.expect_sse("/v1/responses", events, cut_after=1, stall_after=1)
    with pytest.raises(ValueError, match="outside"):
        fake_server.expect_sse("/v1/responses", events, cut_after=len(events) + 1)
    with pytest.raises(ValueError, match="needs cut_after"):
        fake_server.expect_sse("/v1/responses", events, abrupt=True)
    with pytest.raises(ValueError, match="absolute"):
        fake_server.expect_json("v1/models", {})


def test_serves_a_subprocess(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", assistant_reply("from afar"))
    fake_server.expect_error("/v1/responses", 503, "busy")
    script = textwrap.dedent(
        """
        import sys, urllib.error, urllib.request
        base = sys.argv[1]
        with urllib.request.urlopen(urllib.request.Request(base + "/responses", data=b"{}")) as r:
            sys.stdout.write(r.read().decode())
        try:
            urllib.request.urlopen(urllib.request.Request(base + "/responses", data=b"{}"))
        except urllib.error.HTTPError as error:
            sys.stdout.write(f"status {error.code}")
            error.close()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, fake_server.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "event: response.completed" in result.stdout
    assert result.stdout.endswith("status 503")
    assert fake_server.wait_for_requests(2)[1].body_bytes == b"{}"


async def test_markers_route_requests_by_body_whatever_their_order() -> None:
    server = FakeModelServer().start()
    server.expect_sse("/v1/responses", assistant_reply("for a, first"), marker="[a]")
    server.expect_sse("/v1/responses", assistant_reply("for a, later"), marker="[a]", repeat=True)
    server.expect_error("/v1/responses", 400, "for b", marker="[b]")
    server.expect_sse("/v1/responses", assistant_reply("unmarked"))
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            for_b = await client.post("/responses", json={"input": "task [b]"})
            _, unmarked = await post_stream(client)
            replies = []
            for _ in range(3):
                async with client.stream("POST", "/responses", json={"input": "[a] go"}) as reply:
                    events: list[dict[str, Any]] = []
                    await read_events(reply, events)
                    replies.append(events[-1]["response"]["output"][0]["content"][0]["text"])
            both = await client.post("/responses", json={"input": "[a] and [b]"})
            surplus_b = await client.post("/responses", json={"input": "[b] again"})
    finally:
        server.close()
    assert (for_b.status_code, for_b.text) == (400, "for b")
    assert unmarked[-1]["response"]["output"][0]["content"][0]["text"] == "unmarked"
    assert replies == ["for a, first", "for a, later", "for a, later"]
    assert both.status_code == surplus_b.status_code == UNEXPECTED_STATUS
    assert "several markers" in both.json()["error"]["message"]
    assert len(server.requests_with("[a]")) == 4
    assert server.pending_scripts() == []  # the standing script never counts as left over
    assert len(server.errors) == 2
    with pytest.raises(AssertionError, match="several markers"):
        server.assert_done()


async def test_standing_scripts_are_one_per_marker(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", assistant_reply("x"), marker="[m]", repeat=True)
    with pytest.raises(ValueError, match="standing script already"):
        fake_server.expect_sse("/v1/responses", assistant_reply("y"), marker="[m]", repeat=True)


async def test_latency_and_peak_concurrency(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", assistant_reply("late"), repeat=True, latency_s=0.2)
    async with httpx.AsyncClient(base_url=fake_server.base_url) as client:
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(*(post_stream(client) for _ in range(3)))
        elapsed = asyncio.get_running_loop().time() - started
    assert all(events[-1]["type"] == "response.completed" for _, events in results)
    assert elapsed >= 0.2  # a lower bound: load can only make it later
    assert fake_server.peak_concurrent_requests == 3
