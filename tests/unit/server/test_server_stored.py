"""`GET`/`DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`, through the openai SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from support.fake_server import FakeModelServer
from support.serve import ServeHandle, running_serve
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"
TOOL = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}


def text_reply(text: str) -> list[dict[str, Any]]:
    return [chat_chunk(text, role="assistant"), chat_chunk(finish_reason="stop")]


def tool_reply(call_id: str) -> list[dict[str, Any]]:
    call = {"index": 0, "id": call_id, "type": "function"}
    call["function"] = {"name": "get_weather", "arguments": '{"city":"Oslo"}'}
    return [chat_chunk(tool_calls=[call], role="assistant"), chat_chunk(finish_reason="tool_calls")]


@pytest.fixture(params=["memory", "sqlite"])
def serve(
    request: pytest.FixtureRequest, fake_server: FakeModelServer, tmp_path: Path
) -> Iterator[ServeHandle]:
    with running_serve(fake_server, tmp_path, store=request.param) as handle:
        yield handle


async def test_retrieve_returns_the_completed_response(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("Four."))
    created = await client.responses.create(model="m", input="2+2?", metadata={"run": "7"})
    retrieved = await client.responses.retrieve(created.id)
    assert retrieved.model_dump() == created.model_dump()
    assert retrieved.output_text == "Four." and retrieved.status == "completed"


async def test_unknown_unstored_and_deleted_responses_are_404(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("a"))
    fake_server.expect_chat_stream(CHAT, text_reply("b"))
    unstored = await client.responses.create(model="m", input="x", store=False)
    stored = await client.responses.create(model="m", input="y")
    assert await client.responses.delete(stored.id) is None
    for response_id in ("resp_unknown", unstored.id, stored.id):
        with pytest.raises(openai.NotFoundError) as caught:
            await client.responses.retrieve(response_id)
        assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "not_found"
        with pytest.raises(openai.NotFoundError):
            await client.responses.input_items.list(response_id)
        with pytest.raises(openai.NotFoundError):
            await client.responses.delete(response_id)


async def conversation(client: openai.AsyncOpenAI, fake_server: FakeModelServer) -> str:
    """Two responses: a tool call, then its output and the answer. The second one's id."""
    fake_server.expect_chat_stream(CHAT, tool_reply("call_1"))
    fake_server.expect_chat_stream(CHAT, text_reply("Sunny."))
    first = await client.responses.create(
        model="m", instructions="Be brief.", input="Weather in Oslo?", tools=[TOOL]
    )
    second = await client.responses.create(
        model="m",
        previous_response_id=first.id,
        input=[
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {"role": "user", "content": "And tomorrow?"},
        ],
        tools=[TOOL],
    )
    return second.id


async def test_input_items_are_the_whole_conversation_newest_first(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    second = await conversation(client, fake_server)
    page = await client.responses.input_items.list(second)
    kinds = [item.type for item in page.data]
    assert kinds == ["message", "function_call_output", "function_call", "message"]
    assert page.data[-1].type == "message"
    first_message = page.data[-1].model_dump(exclude_none=True)
    assert first_message["content"] == [{"type": "input_text", "text": "Weather in Oslo?"}]
    ids = [item.id for item in page.data]
    assert all(ids) and len(set(ids)) == 4
    assert (page.first_id, page.last_id, page.has_more) == (ids[0], ids[-1], False)
    ascending = await client.responses.input_items.list(second, order="asc")
    assert [item.id for item in ascending.data] == ids[::-1]
    # The same ids every time: they were given when the response was stored.
    assert [item.id for item in (await client.responses.input_items.list(second)).data] == ids


async def test_input_items_pages_follow_after_and_limit(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    second = await conversation(client, fake_server)
    everything = [item.id for item in (await client.responses.input_items.list(second)).data]
    first_page = await client.responses.input_items.list(second, limit=3)
    assert [item.id for item in first_page.data] == everything[:3] and first_page.has_more
    # The SDK's auto-pagination asks for `after=<last id>` until has_more is false.
    walked = [item.id async for item in client.responses.input_items.list(second, limit=1)]
    assert walked == everything
    rest = await client.responses.input_items.list(second, after=everything[1], order="desc")
    assert [item.id for item in rest.data] == everything[2:]


@pytest.mark.parametrize(
    ("query", "param"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"order": "up"}, "order"), ({"after": "msg_nope"}, "after")],
)  # fmt: skip
async def test_bad_list_parameters_are_400(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer, query: dict[str, Any], param: str
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("ok"))
    created = await client.responses.create(model="m", input="hi")
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.input_items.list(created.id, **query)
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == param


async def test_a_conversation_whose_start_was_deleted_cannot_go_on(
    client: openai.AsyncOpenAI, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, text_reply("one"))
    fake_server.expect_chat_stream(CHAT, text_reply("two"))
    first = await client.responses.create(model="m", input="1")
    second = await client.responses.create(model="m", input="2", previous_response_id=first.id)
    await client.responses.delete(first.id)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="m", input="3", previous_response_id=second.id)
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "previous_response_not_found"
    assert first.id in body["message"]
    with pytest.raises(openai.NotFoundError):
        await client.responses.input_items.list(second.id)
    assert (await client.responses.retrieve(second.id)).output_text == "two"
