"""`pycodex serve` driven by the real openai SDK, in front of the fake Chat Completions server."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import ResponseStreamEvent

from support.fake_server import FakeModelServer
from support.serve import ServeHandle, running_serve
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"
TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def usage_chunk(prompt: int = 11, completion: int = 3) -> dict[str, Any]:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion}
    return {"id": "u", "object": "chat.completion.chunk", "choices": [], "usage": usage}


def text_reply(*pieces: str) -> list[dict[str, Any]]:
    chunks = [
        chat_chunk(piece, role="assistant" if i == 0 else None) for i, piece in enumerate(pieces)
    ]
    return [*chunks, chat_chunk(finish_reason="stop"), usage_chunk()]


def tool_reply(call_id: str, name: str, arguments: str) -> list[dict[str, Any]]:
    first = {
        "index": 0,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": ""},
    }
    rest = {"index": 0, "function": {"arguments": arguments}}
    return [
        chat_chunk(tool_calls=[first], role="assistant"),
        chat_chunk(tool_calls=[rest]),
        chat_chunk(finish_reason="tool_calls"),
        usage_chunk(),
    ]


def reasoning_chunk(text: str) -> dict[str, Any]:
    chunk = chat_chunk()
    chunk["choices"][0]["delta"] = {"reasoning_content": text}
    return chunk


def sdk(serve: ServeHandle, api_key: str = "unused") -> openai.AsyncOpenAI:
    """An SDK client; use it as `async with` so its connections close inside the test."""
    return openai.AsyncOpenAI(base_url=serve.base_url, api_key=api_key, max_retries=0)


async def test_streamed_text_parses_as_typed_events(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("Hel", "lo"))
    stream = await client.responses.create(model="m", input="Say hello", stream=True)
    events: list[ResponseStreamEvent] = [event async for event in stream]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert [e.type for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added", "response.output_text.delta",
        "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed",
    ]  # fmt: skip
    # Typed parsing: every event became its own class, not a fallback model.
    assert all(type(e).__name__.startswith("Response") for e in events)
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == "Hello"
    assert completed.response.id.startswith("resp_")
    assert completed.response.usage is not None and completed.response.usage.total_tokens == 14
    sent = fake_server.requests[0].json()
    assert sent["messages"] == [{"role": "user", "content": "Say hello"}]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert fake_server.requests[0].headers["authorization"] == "Bearer sk-downstream"


async def test_sdk_stream_helper_accumulates_the_final_response(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, tool_reply("call_7", "get_weather", '{"city":"Oslo"}'))
    async with client.responses.stream(
        model="m", input="Weather?", tools=[TOOL], instructions="Be brief."
    ) as stream:
        final = await stream.get_final_response()
    (call,) = final.output
    assert call.type == "function_call"
    assert (call.name, call.call_id, call.arguments) == ("get_weather", "call_7", '{"city":"Oslo"}')
    assert final.instructions == "Be brief." and final.tools[0].name == "get_weather"
    sent = fake_server.requests[0].json()
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["tools"][0]["function"]["name"] == "get_weather"


async def test_non_streaming_returns_the_response_object(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("Four."))
    response = await client.responses.create(
        model="m", input="2+2?", temperature=0.2, metadata={"run": "7"}
    )
    assert response.status == "completed" and response.output_text == "Four."
    assert response.temperature == 0.2 and response.metadata == {"run": "7"}
    assert fake_server.requests[0].json()["temperature"] == 0.2


async def test_tool_round_trip_with_previous_response_id(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, tool_reply("call_1", "get_weather", '{"city":"Oslo"}'))
    fake_server.expect_chat_stream(CHAT, text_reply("Sunny in Oslo."))
    first = await client.responses.create(model="m", input="Weather in Oslo?", tools=[TOOL])
    (call,) = first.output
    assert call.type == "function_call"
    second = await client.responses.create(
        model="m",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[TOOL],
    )
    assert second.output_text == "Sunny in Oslo." and second.previous_response_id == first.id
    messages = fake_server.requests[1].json()["messages"]
    assert messages == [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]


async def test_store_false_is_not_kept_and_unknown_previous_id_is_400(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("ok"))
    unstored = await client.responses.create(model="m", input="hi", store=False)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="m", input="more", previous_response_id=unstored.id)
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "previous_response_not_found"
    assert error["param"] == "previous_response_id"


async def test_sqlite_store_survives_a_restart(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("first"))
    fake_server.expect_chat_stream(CHAT, text_reply("second"))
    with running_serve(fake_server, tmp_path) as serve:
        async with sdk(serve) as client:
            first = await client.responses.create(model="m", input="one")
    assert (tmp_path / "serve" / "responses.sqlite").is_file()
    with running_serve(fake_server, tmp_path) as serve:
        async with sdk(serve) as client:
            await client.responses.create(model="m", input="two", previous_response_id=first.id)
    contents = [m["content"] for m in fake_server.requests[1].json()["messages"]]
    assert contents == ["one", "first", "two"]


async def test_reasoning_only_answer_is_retried_silently(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, [reasoning_chunk("hmm"), chat_chunk(finish_reason="stop")])
    fake_server.expect_chat_stream(CHAT, [reasoning_chunk("think"), *text_reply("Done.")])
    stream = await client.responses.create(model="m", input="go", stream=True)
    events = [event async for event in stream]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.reasoning_text.delta"]
    assert deltas == ["think"]  # nothing of the discarded attempt reached the client
    assert events[-1].type == "response.completed"
    assert [item.type for item in events[-1].response.output] == ["reasoning", "message"]
    assert fake_server.requests[0].json() == fake_server.requests[1].json()


async def test_reasoning_only_twice_fails_with_model_output_invalid(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    for _ in range(2):
        fake_server.expect_chat_stream(
            CHAT, [reasoning_chunk("hmm"), chat_chunk(finish_reason="stop")]
        )
    stream = await client.responses.create(model="m", input="go", stream=True)
    events = [event async for event in stream]
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.error is not None
    assert failed.response.error.code == "model_output_invalid"


async def test_keep_alive_comments_while_reasoning_is_held_back(
    serve: ServeHandle, fake_server: FakeModelServer
) -> None:
    # keep_alive_s is 0 in the test server: every event-less downstream chunk sends a comment.
    fake_server.expect_chat_stream(
        CHAT, [reasoning_chunk("a"), reasoning_chunk("b"), *text_reply("ok")]
    )
    async with httpx.AsyncClient() as client:
        body = {"model": "m", "input": "go", "stream": True}
        response = await client.post(f"{serve.base_url}/responses", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    text = response.text
    assert text.count(": keep-alive\n\n") >= 2
    assert text.index(": keep-alive") < text.index("event: response.output_item.added")


async def test_trajectory_file_gets_one_line_per_request(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("one"))
    fake_server.expect_chat_stream(CHAT, text_reply("two"))
    dump = tmp_path / "trajectories.jsonl"
    with running_serve(fake_server, tmp_path, store="memory", trajectory_file=dump) as serve:
        async with sdk(serve) as client:
            await client.responses.create(model="m", input="first")
            stream = await client.responses.create(model="m", input="second", stream=True)
            [event async for event in stream]
    lines = [json.loads(line) for line in dump.read_text().splitlines()]
    assert [line["request"]["input"][0]["content"][0]["text"] for line in lines] == [
        "first",
        "second",
    ]
    for line, text in zip(lines, ("one", "two"), strict=True):
        assert line["status"] == "completed" and line["response_id"].startswith("resp_")
        assert line["output"][0]["content"][0]["text"] == text
        assert line["usage"]["total_tokens"] == 14
        assert line["timing"]["duration_ms"] >= line["timing"]["first_event_ms"] >= 0
        assert line["timing"]["downstream_attempts"] == 1
    assert "sk-downstream" not in dump.read_text()
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # it holds whole conversations


async def test_many_concurrent_streams(tmp_path: Path) -> None:
    with (
        FakeModelServer() as fake_server,
        running_serve(fake_server, tmp_path, store="memory") as serve,
    ):
        async with sdk(serve) as client:
            await _concurrent_streams(client, fake_server)


async def _concurrent_streams(client: openai.AsyncOpenAI, fake_server: FakeModelServer) -> None:

    count = 64
    for _ in range(count):
        fake_server.expect_chat_stream(CHAT, text_reply("same answer"))

    async def one(index: int) -> str:
        stream = await client.responses.create(model="m", input=f"q{index}", stream=True)
        events = [event async for event in stream]
        last = events[-1]
        assert last.type == "response.completed"
        return last.response.output_text

    answers = await asyncio.gather(*(one(i) for i in range(count)))
    assert answers == ["same answer"] * count


async def test_namespace_tools_are_flattened_for_a_chat_downstream(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    """Upstream Codex sends its sub-agent tools as a `namespace`; a chat model sees plain
    functions named `<namespace>__<name>`, and its call comes back namespaced."""
    namespace = {
        "type": "namespace",
        "name": "multi_agent_v1",
        "description": "Sub-agents.",
        "tools": [{**TOOL, "name": "spawn_agent"}],
    }
    fake_server.expect_chat_stream(
        CHAT, tool_reply("call_3", "multi_agent_v1__spawn_agent", '{"message":"x"}')
    )
    response = await client.post(
        "/responses",
        cast_to=httpx.Response,
        body={"model": "m", "input": "spawn", "tools": [namespace], "stream": False},
    )
    output = response.json()["output"]
    assert [(item["namespace"], item["name"]) for item in output] == [
        ("multi_agent_v1", "spawn_agent")
    ]
    sent = fake_server.requests[0].json()
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["multi_agent_v1__spawn_agent"]
