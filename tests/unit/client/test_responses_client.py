"""The Responses client against the fake server: request shape, events, HTTP retries, errors."""

from __future__ import annotations

import json

import pytest

from pycodex.client.request import Prompt
from pycodex.protocol import errors
from pycodex.protocol.items import FunctionCall, Message, Reasoning, user_message
from pycodex.protocol.response_events import (
    OutputItemDone,
    OutputTextDelta,
    ResponseCompleted,
    ResponseEvent,
    StreamWarning,
)
from pycodex.protocol.usage import TokenUsage
from support import sse_builders as sse
from support.clients import TEST_KEY, fake_client, request_context
from support.fake_server import FakeModelServer

PROMPT = Prompt(input=[user_message("hi")], instructions="be brief", tools=[{"type": "web_search"}])


async def collect(
    server: FakeModelServer, prompt: Prompt = PROMPT, **changes: object
) -> list[ResponseEvent]:
    client = fake_client(server, **changes)
    try:
        return [event async for event in client.stream(prompt, request_context())]
    finally:
        await client.aclose()


async def test_request_body_keys_in_upstream_order(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    await collect(fake_server)
    body = fake_server.requests[0].json()
    assert list(body) == [
        "model",
        "instructions",
        "input",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "store",
        "stream",
        "include",
        "prompt_cache_key",
        "client_metadata",
    ]
    assert body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]
    # The cache key is the session (tree) id: every thread of a tree shares the prefix cache.
    assert body["prompt_cache_key"] == "session-1"
    assert body["stream"] is True and body["store"] is False


async def test_headers_identify_pycodex_and_the_turn(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    await collect(fake_server, http_headers={"x-extra": "1"}, query_params={"api-version": "v"})
    request = fake_server.requests[0]
    headers = request.headers
    assert headers["authorization"] == f"Bearer {TEST_KEY}"
    assert headers["originator"] == "pycodex_exec"
    assert headers["user-agent"].startswith("pycodex/")
    assert headers["thread-id"] == "thread-1" and headers["session-id"] == "session-1"
    assert headers["x-client-request-id"] == "req-turn-1"
    assert headers["accept"] == "text/event-stream"
    assert headers["x-extra"] == "1"
    assert request.query == "api-version=v"
    metadata = json.loads(headers["x-codex-turn-metadata"])
    assert metadata["turn_id"] == "turn-1" and metadata["model"] == "test-model"
    assert headers["x-codex-window-id"] == "thread-1:0"
    assert "x-codex-parent-thread-id" not in headers and "x-openai-subagent" not in headers


async def test_client_metadata_and_turn_metadata_of_a_root_turn(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    await collect(fake_server)
    request = fake_server.requests[0]
    metadata = request.json()["client_metadata"]
    assert list(metadata) == [
        "x-codex-turn-metadata", "session_id", "thread_id", "turn_id", "root_turn_id",
        "x-codex-window-id",
    ]  # fmt: skip
    assert metadata["x-codex-turn-metadata"] == request.headers["x-codex-turn-metadata"]
    assert (metadata["session_id"], metadata["thread_id"]) == ("session-1", "thread-1")
    assert metadata["turn_id"] == metadata["root_turn_id"] == "turn-1"
    turn = json.loads(metadata["x-codex-turn-metadata"])
    assert list(turn) == [
        "session_id", "thread_id", "turn_id", "root_turn_id", "window_id", "thread_source",
        "turn_trigger", "sandbox_mode", "model", "reasoning_effort",
    ]  # fmt: skip
    assert turn["thread_source"] == "user" and turn["window_id"] == "thread-1:0"


async def test_stream_translates_to_internal_events(fake_server: FakeModelServer) -> None:
    call = sse.function_call("shell", '{"command":["ls"]}', call_id="c1")
    fake_server.expect_sse(
        "/v1/responses",
        [
            sse.response_created(),
            sse.output_item_done(sse.reasoning("thinking", encrypted_content="enc")),
            sse.output_text_delta("Hel"),
            {"type": "response.some_future_event", "x": 1},
            sse.output_item_done(sse.message("Hello")),
            sse.output_item_done(call),
            sse.completed(input_tokens=7, cached_tokens=2, output_tokens=3, reasoning_tokens=1),
        ],
    )
    events = await collect(fake_server)
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert isinstance(done[0], Reasoning) and done[0].encrypted_content == "enc"
    assert isinstance(done[1], Message) and done[1].text == "Hello"
    assert isinstance(done[2], FunctionCall) and done[2].to_wire() == call
    assert [e.delta for e in events if isinstance(e, OutputTextDelta)] == ["Hel"]
    completed = events[-1]
    assert isinstance(completed, ResponseCompleted)
    assert completed.usage == TokenUsage(7, 2, 3, 1, 10)


async def test_5xx_is_retried_silently(fake_server: FakeModelServer) -> None:
    fake_server.expect_error("/v1/responses", 500, "boom")
    fake_server.expect_error("/v1/responses", 503, "busy")
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await collect(fake_server)
    assert isinstance(events[-1], ResponseCompleted)
    ids = {r.headers["x-client-request-id"] for r in fake_server.requests}
    assert ids == {"req-turn-1"}


async def test_5xx_after_retries_is_a_retryable_server_error(fake_server: FakeModelServer) -> None:
    for _ in range(3):
        fake_server.expect_error("/v1/responses", 500, "boom")
    with pytest.raises(errors.ServerError) as caught:
        await collect(fake_server)
    assert isinstance(caught.value, errors.RetryableError)
    assert "500" in str(caught.value)


async def test_429_with_retry_after_waits_and_retries(fake_server: FakeModelServer) -> None:
    fake_server.expect_error("/v1/responses", 429, "slow down", headers={"retry-after": "0.05"})
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    events = await collect(fake_server)
    assert isinstance(events[-1], ResponseCompleted)


async def test_429_without_retry_after_ends_with_retry_limit(fake_server: FakeModelServer) -> None:
    for _ in range(3):
        fake_server.expect_error("/v1/responses", 429, {"error": {"message": "rate limited"}})
    with pytest.raises(errors.RetryLimitReached) as caught:
        await collect(fake_server)
    assert str(caught.value) == "exceeded retry limit, last status: 429 Too Many Requests"


async def test_insufficient_quota_fails_at_once(fake_server: FakeModelServer) -> None:
    body = {"error": {"code": "insufficient_quota", "message": "You exceeded your quota"}}
    fake_server.expect_error("/v1/responses", 429, body)
    with pytest.raises(errors.QuotaExceeded):
        await collect(fake_server)
    assert len(fake_server.requests) == 1


async def test_400_fails_at_once_with_the_body_message(fake_server: FakeModelServer) -> None:
    body = {"error": {"message": "Unsupported parameter: foo", "code": "bad_param"}}
    fake_server.expect_error("/v1/responses", 400, body)
    with pytest.raises(errors.InvalidRequest) as caught:
        await collect(fake_server)
    assert "Unsupported parameter: foo" in str(caught.value)
    assert len(fake_server.requests) == 1


async def test_400_context_length_is_classified(fake_server: FakeModelServer) -> None:
    message = (
        "This model's maximum context length is 8192 tokens. However, you requested 9000 "
        "tokens (8000 in the messages, 1000 in the completion)."
    )
    fake_server.expect_error("/v1/responses", 400, {"error": {"message": message}})
    with pytest.raises(errors.ContextWindowExceeded) as caught:
        await collect(fake_server)
    assert caught.value.requested_tokens == 9000


async def test_response_failed_server_error_is_a_disconnect(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse(
        "/v1/responses", [sse.response_created(), sse.failed("server_error", "overloaded")]
    )
    with pytest.raises(errors.StreamDisconnected) as caught:
        await collect(fake_server)
    assert str(caught.value) == "stream disconnected before completion: overloaded"


async def test_response_failed_context_length(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse(
        "/v1/responses", [sse.failed("context_length_exceeded", "Your input is too long.")]
    )
    with pytest.raises(errors.ContextWindowExceeded):
        await collect(fake_server)


async def test_cut_stream_keeps_completed_items_then_disconnects(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_sse(
        "/v1/responses",
        [sse.response_created(), sse.output_item_done(sse.message("partial")), sse.completed()],
        cut_after=2,
    )
    client = fake_client(fake_server)
    seen: list[ResponseEvent] = []
    with pytest.raises(errors.StreamDisconnected) as caught:
        async for event in client.stream(PROMPT, request_context()):
            seen.append(event)
    await client.aclose()
    assert any(isinstance(e, OutputItemDone) for e in seen)
    assert "stream closed before response.completed" in str(caught.value)


async def test_abrupt_close_is_a_disconnect(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse(
        "/v1/responses", [sse.response_created(), sse.completed()], cut_after=1, abrupt=True
    )
    with pytest.raises(errors.StreamDisconnected):
        await collect(fake_server)


async def test_idle_stream_times_out(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse(
        "/v1/responses", [sse.response_created(), sse.completed()], stall_after=1
    )
    with pytest.raises(errors.IdleTimeout) as caught:
        await collect(fake_server, stream_idle_timeout_ms=200)
    assert "idle timeout" in str(caught.value)


async def test_incomplete_response_is_an_error(fake_server: FakeModelServer) -> None:
    fake_server.expect_sse("/v1/responses", [sse.response_created(), sse.incomplete()])
    with pytest.raises(errors.ModelError) as caught:
        await collect(fake_server)
    assert str(caught.value) == "Incomplete response returned, reason: max_output_tokens"


async def test_malformed_events_are_skipped_with_a_warning_and_the_stream_goes_on(
    fake_server: FakeModelServer,
) -> None:
    broken = {"type": "function_call", "name": "shell", "arguments": "{}"}  # no call_id
    fake_server.expect_sse(
        "/v1/responses",
        [
            sse.output_item_done(broken),
            b"event: response.output_text.delta\ndata: {not json\n\n",
            sse.output_item_done(sse.message("still here")),
            sse.completed(),
        ],
    )
    events = await collect(fake_server)
    warnings = [e.message for e in events if isinstance(e, StreamWarning)]
    assert len(warnings) == 2
    assert warnings[0].startswith("skipped a malformed response.output_item.done event")
    assert "call_id" in warnings[0]
    assert warnings[1].startswith("skipped a malformed 'response.output_text.delta' event")
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert [item.text for item in done if isinstance(item, Message)] == ["still here"]
    assert isinstance(events[-1], ResponseCompleted)


async def test_connection_refused_is_retried_then_disconnect() -> None:
    server = FakeModelServer().start()
    server.close()  # nothing listens on that port any more
    with pytest.raises(errors.StreamDisconnected) as caught:
        await collect(server)
    assert "error sending request" in str(caught.value)
