"""The Chat Completions client against the fake server: request, events, retries, errors."""

from __future__ import annotations

import json

import pytest

from pycodex.client.chat import ChatCompletionsModelClient
from pycodex.client.request import ModelSettings, Prompt
from pycodex.protocol import errors
from pycodex.protocol.items import (
    CustomToolCall,
    FunctionCall,
    Message,
    Reasoning,
    ResponseItem,
    user_message,
)
from pycodex.protocol.response_events import (
    OutputItemDone,
    ResponseCompleted,
    ResponseCreated,
    ResponseEvent,
    StreamWarning,
)
from support import downstream_builders as down
from support.clients import TEST_KEY, fake_provider, request_context
from support.fake_server import FakeModelServer
from support.sse_builders import chat_chunk

PATH = "/v1/chat/completions"
EXEC_TOOL = {
    "type": "function",
    "name": "exec_command",
    "description": "Run a command.",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}
PATCH_TOOL = {"type": "custom", "name": "apply_patch", "description": "Edit files."}
PROMPT = Prompt(
    input=[user_message("hi")],
    instructions="be brief",
    tools=[EXEC_TOOL, PATCH_TOOL, {"type": "web_search"}],
)


def chat_client(
    server: FakeModelServer, env: dict[str, str] | None = None, **changes: object
) -> ChatCompletionsModelClient:
    provider = fake_provider(server, wire_api="chat", **changes)
    env = {"FAKE_KEY": TEST_KEY} if env is None else env
    return ChatCompletionsModelClient(provider, ModelSettings(model="test-model"), env=env)


async def collect(
    client: ChatCompletionsModelClient, prompt: Prompt = PROMPT
) -> list[ResponseEvent]:
    try:
        return [event async for event in client.stream(prompt, request_context())]
    finally:
        await client.aclose()


def done_items(events: list[ResponseEvent]) -> list[ResponseItem]:
    return [event.item for event in events if isinstance(event, OutputItemDone)]


async def test_request_is_a_streamed_chat_completion(fake_server: FakeModelServer) -> None:
    fake_server.expect_chat_stream(PATH, down.chat_text("ok"))
    client = chat_client(fake_server, http_headers={"x-extra": "1"}, provider_kind="vllm")
    await collect(client)
    request = fake_server.requests[0]
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert request.headers["x-extra"] == "1"
    assert request.headers["originator"] == "pycodex_exec"
    assert request.headers["x-client-request-id"] == "req-turn-1"
    body = request.json()
    assert body["model"] == "test-model"
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert [tool["function"]["name"] for tool in body["tools"]] == ["exec_command", "apply_patch"]
    patch = body["tools"][1]["function"]
    assert patch["parameters"]["required"] == ["input"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_hosted_tools_are_dropped_with_one_warning(fake_server: FakeModelServer) -> None:
    fake_server.expect_chat_stream(PATH, down.chat_text("one"))
    fake_server.expect_chat_stream(PATH, down.chat_text("two"))
    heard: list[str] = []
    provider = fake_provider(fake_server, wire_api="chat")
    client = ChatCompletionsModelClient(
        provider, ModelSettings(model="m"), env={"FAKE_KEY": TEST_KEY}, on_warning=heard.append
    )
    await collect(client)
    await collect(client)
    assert len(heard) == 1 and "web_search" in heard[0]
    assert client.warnings == heard


async def test_text_tool_calls_and_usage_become_internal_events(
    fake_server: FakeModelServer,
) -> None:
    patch = "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n"
    fake_server.expect_chat_stream(
        PATH,
        [
            chat_chunk(role="assistant"),
            chat_chunk("Working on it."),
            *down.chat_tool_calls(
                ("c1", "exec_command", '{"cmd": "ls"}'),
                ("c2", "apply_patch", json.dumps({"input": patch})),
            )[1:],
        ],
    )
    events = await collect(chat_client(fake_server))
    assert isinstance(events[0], ResponseCreated)
    items = done_items(events)
    assert isinstance(items[0], Message) and items[0].text == "Working on it."
    assert isinstance(items[1], FunctionCall)
    assert (items[1].call_id, items[1].name, items[1].arguments) == (
        "c1",
        "exec_command",
        '{"cmd": "ls"}',
    )
    assert isinstance(items[2], CustomToolCall)
    assert (items[2].call_id, items[2].input) == ("c2", patch)
    completed = events[-1]
    assert isinstance(completed, ResponseCompleted) and completed.usage is not None
    assert (completed.usage.input_tokens, completed.usage.output_tokens) == (10, 5)


async def test_keyless_provider_sends_no_authorization(fake_server: FakeModelServer) -> None:
    fake_server.expect_chat_stream(PATH, down.chat_text("ok"))
    await collect(chat_client(fake_server, env={}, env_key=None))
    assert "authorization" not in fake_server.requests[0].headers


async def test_stream_without_done_is_a_retryable_disconnect(fake_server: FakeModelServer) -> None:
    chunks = down.chat_text("partial answer")
    fake_server.expect_chat_stream(PATH, chunks, cut_after=len(chunks))
    with pytest.raises(errors.StreamDisconnected) as caught:
        await collect(chat_client(fake_server))
    assert "[DONE]" in str(caught.value)


async def test_a_malformed_chunk_is_skipped_with_a_warning(fake_server: FakeModelServer) -> None:
    chunks: list[dict[str, object] | bytes] = [*down.chat_text("whole answer")]
    chunks.insert(2, b"data: {broken\n\n")
    fake_server.expect_chat_stream(PATH, chunks)
    events = await collect(chat_client(fake_server))
    warnings = [e.message for e in events if isinstance(e, StreamWarning)]
    assert len(warnings) == 1
    assert warnings[0].startswith("skipped a malformed event from the model server")
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert [item.text for item in done if isinstance(item, Message)] == ["whole answer"]
    assert isinstance(events[-1], ResponseCompleted)


async def test_silent_stream_is_an_idle_timeout(fake_server: FakeModelServer) -> None:
    fake_server.expect_chat_stream(PATH, down.chat_text("slow"), stall_after=1)
    with pytest.raises(errors.IdleTimeout):
        await collect(chat_client(fake_server, stream_idle_timeout_ms=200))


async def test_reasoning_only_answer_is_retried_once_silently(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_chat_stream(PATH, down.chat_reasoning_only("hmm"))
    fake_server.expect_chat_stream(PATH, down.chat_text("Answer.", reasoning="thought"))
    events = await collect(chat_client(fake_server))
    first, second = fake_server.requests
    assert first.body_bytes == second.body_bytes
    assert first.headers["x-client-request-id"] == second.headers["x-client-request-id"]
    items = done_items(events)
    assert isinstance(items[0], Reasoning) and items[0].content is not None
    assert [part.text for part in items[0].content] == ["thought"]
    assert isinstance(items[1], Message) and items[1].text == "Answer."
    assert len(items) == 2
    assert sum(isinstance(event, ResponseCreated) for event in events) == 1


async def test_reasoning_only_twice_fails_for_good(fake_server: FakeModelServer) -> None:
    fake_server.expect_chat_stream(PATH, down.chat_reasoning_only())
    fake_server.expect_chat_stream(PATH, down.chat_reasoning_only())
    with pytest.raises(errors.ModelError) as caught:
        await collect(chat_client(fake_server))
    assert not isinstance(caught.value, errors.RetryableError)
    assert str(caught.value) == (
        "model_output_invalid: the model answered with reasoning only, twice"
    )


@pytest.mark.parametrize(
    "body",
    [
        {
            "object": "error",
            "message": "This model's maximum context length is 4096 tokens. However, you "
            "requested 5000 tokens (4000 in the messages, 1000 in the completion).",
            "type": "BadRequestError",
            "code": 400,
        },
        {
            "error": {
                "code": 400,
                "type": "exceed_context_size_error",
                "message": "the request exceeds the available context size, try increasing it",
            }
        },
    ],
    ids=["vllm", "llamacpp"],
)
async def test_context_length_400_is_context_window_exceeded(
    fake_server: FakeModelServer, body: dict[str, object]
) -> None:
    fake_server.expect_error(PATH, 400, body)
    with pytest.raises(errors.ContextWindowExceeded):
        await collect(chat_client(fake_server))
    assert len(fake_server.requests) == 1


async def test_401_names_the_key_variable(fake_server: FakeModelServer) -> None:
    fake_server.expect_error(PATH, 401, {"error": {"message": "Invalid API key"}})
    with pytest.raises(errors.InvalidRequest) as caught:
        await collect(chat_client(fake_server))
    assert caught.value.status == 401
    assert "Invalid API key" in str(caught.value) and "FAKE_KEY" in str(caught.value)


async def test_5xx_and_429_are_retried_at_http_level(fake_server: FakeModelServer) -> None:
    fake_server.expect_error(PATH, 500, "boom")
    fake_server.expect_error(PATH, 429, "slow down", headers={"retry-after": "0.01"})
    fake_server.expect_chat_stream(PATH, down.chat_text("ok"))
    events = await collect(chat_client(fake_server))
    assert isinstance(events[-1], ResponseCompleted)
    assert len(fake_server.requests) == 3


async def test_429_without_retry_after_ends_with_retry_limit(fake_server: FakeModelServer) -> None:
    for _ in range(3):
        fake_server.expect_error(PATH, 429, {"error": {"message": "rate limited"}})
    with pytest.raises(errors.RetryLimitReached):
        await collect(chat_client(fake_server))


async def test_error_inside_the_stream_is_classified(fake_server: FakeModelServer) -> None:
    error = {"error": {"message": "prompt is too long for this model", "code": 400}}
    fake_server.expect_chat_stream(PATH, [chat_chunk(role="assistant"), error])
    with pytest.raises(errors.ContextWindowExceeded):
        await collect(chat_client(fake_server))


async def test_with_model_shares_the_provider(fake_server: FakeModelServer) -> None:
    fake_server.expect_chat_stream(PATH, down.chat_text("ok"))
    client = chat_client(fake_server).with_model("other-model")
    await collect(client)
    assert fake_server.requests[0].json()["model"] == "other-model"
