"""The Anthropic Messages client against the fake server: request, events, retries, errors."""

from __future__ import annotations

import pytest

from pycodex.client.messages import AnthropicMessagesModelClient
from pycodex.client.request import ModelSettings, Prompt
from pycodex.protocol import errors
from pycodex.protocol.items import (
    CustomToolCall,
    FunctionCall,
    FunctionCallOutput,
    Message,
    Reasoning,
    ResponseItem,
    user_message,
)
from pycodex.protocol.response_events import OutputItemDone, ResponseCompleted, ResponseEvent
from support import downstream_builders as down
from support.clients import TEST_KEY, fake_provider, request_context
from support.fake_server import FakeModelServer

PATH = "/v1/messages"
EXEC_TOOL = {
    "type": "function",
    "name": "exec_command",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}
PROMPT = Prompt(
    input=[user_message("hi")],
    instructions="be brief",
    tools=[EXEC_TOOL, {"type": "custom", "name": "apply_patch"}],
)


def messages_client(
    server: FakeModelServer, settings: ModelSettings | None = None, **changes: object
) -> AnthropicMessagesModelClient:
    provider = fake_provider(server, wire_api="messages", **changes)
    return AnthropicMessagesModelClient(
        provider, settings or ModelSettings(model="claude-test"), env={"FAKE_KEY": TEST_KEY}
    )


async def collect(
    client: AnthropicMessagesModelClient, prompt: Prompt = PROMPT
) -> list[ResponseEvent]:
    try:
        return [event async for event in client.stream(prompt, request_context())]
    finally:
        await client.aclose()


def done_items(events: list[ResponseEvent]) -> list[ResponseItem]:
    return [event.item for event in events if isinstance(event, OutputItemDone)]


async def test_request_carries_anthropic_headers_and_max_tokens(
    fake_server: FakeModelServer,
) -> None:
    fake_server.expect_stream(PATH, down.messages_stream(down.text_block("ok")))
    await collect(messages_client(fake_server))
    request = fake_server.requests[0]
    assert request.headers["x-api-key"] == TEST_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    body = request.json()
    assert body["max_tokens"] == 32000 and body["stream"] is True
    assert body["system"] == "be brief"
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert [tool["name"] for tool in body["tools"]] == ["exec_command", "apply_patch"]


async def test_provider_headers_override_the_version(fake_server: FakeModelServer) -> None:
    fake_server.expect_stream(PATH, down.messages_stream(down.text_block("ok")))
    await collect(messages_client(fake_server, http_headers={"anthropic-version": "2099-01-01"}))
    assert fake_server.requests[0].headers["anthropic-version"] == "2099-01-01"


async def test_thinking_text_and_tool_use_become_items(fake_server: FakeModelServer) -> None:
    fake_server.expect_stream(
        PATH,
        down.messages_stream(
            down.thinking_block("consider", signature="sig-9"),
            down.text_block("Running it."),
            down.tool_use_block("tu_1", "exec_command", {"cmd": "ls"}),
            down.tool_use_block("tu_2", "apply_patch", {"input": "*** Begin Patch\n"}),
            stop_reason="tool_use",
            input_tokens=12,
            output_tokens=7,
        ),
    )
    events = await collect(messages_client(fake_server))
    reasoning, message, call, patch = done_items(events)
    assert isinstance(reasoning, Reasoning) and reasoning.encrypted_content == "sig-9"
    assert isinstance(message, Message) and message.text == "Running it."
    assert isinstance(call, FunctionCall) and call.call_id == "tu_1"
    assert call.arguments == '{"cmd": "ls"}'
    assert isinstance(patch, CustomToolCall) and patch.input == "*** Begin Patch\n"
    completed = events[-1]
    assert isinstance(completed, ResponseCompleted) and completed.usage is not None
    assert (completed.usage.input_tokens, completed.usage.output_tokens) == (12, 7)


async def test_tool_results_are_paired_with_their_tool_use(fake_server: FakeModelServer) -> None:
    fake_server.expect_stream(PATH, down.messages_stream(down.text_block("done")))
    history = [
        user_message("list"),
        FunctionCall(name="exec_command", arguments='{"cmd": "ls"}', call_id="tu_1"),
        FunctionCallOutput(call_id="tu_1", output="a.txt"),
    ]
    await collect(messages_client(fake_server), Prompt(input=history, tools=[EXEC_TOOL]))
    messages = fake_server.requests[0].json()["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": "tu_1", "name": "exec_command", "input": {"cmd": "ls"}}
        ],
    }
    assert messages[2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "a.txt"}],
    }


async def test_reasoning_effort_turns_thinking_on(fake_server: FakeModelServer) -> None:
    fake_server.expect_stream(PATH, down.messages_stream(down.text_block("ok")))
    settings = ModelSettings(model="claude-test", reasoning_effort="low")
    await collect(messages_client(fake_server, settings))
    assert fake_server.requests[0].json()["thinking"] == {"type": "enabled", "budget_tokens": 2048}


async def test_stream_without_message_stop_is_a_disconnect(fake_server: FakeModelServer) -> None:
    fake_server.expect_stream(PATH, down.messages_stream(down.text_block("cut"), stop=False))
    with pytest.raises(errors.StreamDisconnected) as caught:
        await collect(messages_client(fake_server))
    assert "message_stop" in str(caught.value)


async def test_thinking_only_is_retried_then_fails(fake_server: FakeModelServer) -> None:
    thinking_only = down.messages_stream(down.thinking_block("hmm"))
    fake_server.expect_stream(PATH, thinking_only)
    fake_server.expect_stream(PATH, thinking_only)
    with pytest.raises(errors.ModelError) as caught:
        await collect(messages_client(fake_server))
    assert not isinstance(caught.value, errors.RetryableError)
    assert "reasoning only, twice" in str(caught.value)
    assert len(fake_server.requests) == 2


async def test_prompt_too_long_is_context_window_exceeded(fake_server: FakeModelServer) -> None:
    body = {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "prompt is too long: 210000 tokens > 200000 maximum",
        },
    }
    fake_server.expect_error(PATH, 400, body)
    with pytest.raises(errors.ContextWindowExceeded):
        await collect(messages_client(fake_server))


async def test_overloaded_529_is_retried(fake_server: FakeModelServer) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_server.expect_error(PATH, 529, overloaded)
    fake_server.expect_stream(PATH, down.messages_stream(down.text_block("ok")))
    events = await collect(messages_client(fake_server))
    assert isinstance(events[-1], ResponseCompleted)


@pytest.mark.parametrize(
    ("error_type", "expected"),
    [
        ("overloaded_error", errors.StreamDisconnected),
        ("authentication_error", errors.InvalidRequest),
        ("rate_limit_error", errors.RateLimited),
    ],
)
async def test_error_event_in_the_stream_is_classified(
    fake_server: FakeModelServer, error_type: str, expected: type[Exception]
) -> None:
    error = {"type": "error", "error": {"type": error_type, "message": "nope"}}
    frames = down.messages_stream(down.text_block("partial"), stop=False)
    fake_server.expect_stream(PATH, [*frames[:3], down.frame(error)])
    with pytest.raises(expected):
        await collect(messages_client(fake_server))
