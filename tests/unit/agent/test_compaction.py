"""Compaction through the real loop and client against the fake server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pycodex import AgentLoop, ContextManager, ToolRegistry
from pycodex.agent.turn import OUT_OF_ROOM
from pycodex.compaction.history import SUMMARY_TAG, load_prompt
from pycodex.context.tokens import approx_items_token_count
from pycodex.protocol import events as ev
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import BaseTool, ToolContext
from support import sse_builders as sse
from support.clients import fake_client
from support.fake_server import FakeModelServer

SUMMARY = "Goal: test compaction. Done: two turns."


class Nop(BaseTool):
    name = "nop"
    description = "Does nothing."
    input_schema = {"type": "object", "properties": {}}

    async def run(self, context: ToolContext, args: dict[str, Any]) -> str:
        return "nop done"


def make_agent(
    server: FakeModelServer,
    events: list[EngineEvent],
    *,
    limit: int | None = None,
    remote: bool = False,
) -> AgentLoop:
    context = ContextManager(
        base_instructions="base", cwd=Path("/work"), sandbox_policy=SandboxPolicy.read_only()
    )
    agent = AgentLoop(fake_client(server), ToolRegistry([Nop()]), context, on_event=events.append)
    agent.state.auto_compact_token_limit = limit
    agent.state.remote_compaction = remote
    return agent


def reply(text: str, total: int = 15) -> list[dict[str, Any]]:
    events = sse.assistant_reply(text)
    events[-1] = sse.completed(input_tokens=total - 5, output_tokens=5)
    return events


def texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role or type, first text) for every input item, to compare histories compactly."""
    rows = []
    for item in body["input"]:
        if item["type"] == "message":
            rows.append((item["role"], item["content"][0]["text"][:40]))
        else:
            rows.append((item["type"], item.get("call_id", "")))
    return rows


def summary_text() -> str:
    return f"{load_prompt('summary_prefix.md')}\n{SUMMARY}\n</compaction_summary>"


async def test_manual_compaction_replaces_history(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events)
    fake_server.expect_sse("/v1/responses", reply("a"))
    fake_server.expect_sse("/v1/responses", sse.tool_calls(sse.function_call("nop", "{}")))
    fake_server.expect_sse("/v1/responses", reply("b"))
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    fake_server.expect_sse("/v1/responses", reply("c"))
    await agent.run_turn("first request")
    await agent.run_turn("second request")
    assert await agent.compact()
    await agent.run_turn("third request")
    await agent.aclose()
    summarizing = fake_server.requests[3].json()
    assert summarizing["tools"] == []
    assert summarizing["input"][:-1] == fake_server.requests[2].json()["input"] + [
        {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
         "content": [{"type": "output_text", "text": "b", "annotations": []}]},
    ]  # fmt: skip
    assert summarizing["input"][-1]["content"][0]["text"] == load_prompt("summarize.md")
    after = fake_server.requests[4].json()
    initial = fake_server.requests[0].json()["input"][:2]
    assert after["input"][:2] == initial
    assert after["input"][2:] == [
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "first request"}]},
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "second request"}]},
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": summary_text()}]},
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "third request"}]},
    ]  # fmt: skip
    (done,) = [e for e in events if isinstance(e, ev.CompactionCompleted)]
    assert done.phase == "manual" and done.items_kept == 5 and done.items_pruned == 0
    # Before and after are the same estimate of the history, before and after compaction.
    assert done.tokens_before == approx_items_token_count(summarizing["input"][:-1])
    assert done.tokens_after == approx_items_token_count(after["input"][:-1])


async def test_auto_compaction_before_the_next_turn(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events, limit=100)
    fake_server.expect_sse("/v1/responses", reply("big answer " * 200, total=150))
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    fake_server.expect_sse("/v1/responses", reply("next"))
    await agent.run_turn("one")
    result = await agent.run_turn("two")
    await agent.aclose()
    assert result.output_text == "next"
    assert texts(fake_server.requests[1].json())[-1] == ("user", load_prompt("summarize.md")[:40])
    last = texts(fake_server.requests[2].json())
    assert last[2:] == [("user", "one"), ("user", (SUMMARY_TAG + "\nThe earlier part of th")[:40]),
                        ("user", "two")]  # fmt: skip
    phases = [e.phase for e in events if isinstance(e, ev.CompactionCompleted)]
    assert phases == ["pre_turn"]


async def test_auto_compaction_mid_turn(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events, limit=100)
    call_turn = sse.tool_calls(sse.function_call("nop", json.dumps({"pad": "x" * 2000})))
    call_turn[-1] = sse.completed(input_tokens=140, output_tokens=10)
    fake_server.expect_sse("/v1/responses", call_turn)
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    fake_server.expect_sse("/v1/responses", reply("finished"))
    result = await agent.run_turn("work")
    await agent.aclose()
    assert result.output_text == "finished"
    follow_up = texts(fake_server.requests[2].json())
    assert ("function_call", "call_1") not in follow_up  # summarized away
    assert follow_up[-1][1].startswith(SUMMARY_TAG)
    assert [e.phase for e in events if isinstance(e, ev.CompactionCompleted)] == ["mid_turn"]


OVERFLOW = {
    "error": {
        "code": "context_length_exceeded",
        "message": "This model's maximum context length is 8192 tokens. However, you requested "
        "9000 tokens (8000 in the messages, 1000 in the completion).",
    }
}


def expect_a_long_first_turn(server: FakeModelServer) -> None:
    """A turn whose tool call carries ~2,000 bytes: enough history for compaction to shrink."""
    server.expect_sse(
        "/v1/responses",
        sse.tool_calls(sse.function_call("nop", json.dumps({"pad": "x" * 2000}))),
    )
    server.expect_sse("/v1/responses", reply("a"))


async def test_overflow_compacts_and_retries_once(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events)
    expect_a_long_first_turn(fake_server)
    fake_server.expect_error("/v1/responses", 400, OVERFLOW)
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    fake_server.expect_sse("/v1/responses", reply("fits now"))
    await agent.run_turn("one")
    result = await agent.run_turn("two")
    await agent.aclose()
    assert result.output_text == "fits now"
    samples = [e.last.total_tokens for e in events if isinstance(e, ev.TokenCount)]
    assert 9000 in samples
    (done,) = [e for e in events if isinstance(e, ev.CompactionCompleted)]
    assert done.phase == "overflow" and done.tokens_after < done.tokens_before


async def test_overflow_twice_fails_the_turn(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events)
    expect_a_long_first_turn(fake_server)
    fake_server.expect_error("/v1/responses", 400, OVERFLOW)
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    fake_server.expect_error("/v1/responses", 400, OVERFLOW)
    await agent.run_turn("one")
    result = await agent.run_turn("two")
    await agent.aclose()
    assert result.error == OUT_OF_ROOM
    assert [e.message for e in events if isinstance(e, ev.Error)] == [OUT_OF_ROOM]


async def test_overflow_that_compaction_cannot_shrink_fails_the_turn_once(
    fake_server: FakeModelServer,
) -> None:
    """Nothing to compact away (one short message): no retry, upstream's out-of-room failure,
    and the server's text is said once, in the compaction failure, not again in the error."""
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events)
    fake_server.expect_error("/v1/responses", 400, OVERFLOW)
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    result = await agent.run_turn("one")
    await agent.aclose()
    assert result.error == OUT_OF_ROOM
    assert OUT_OF_ROOM.count("context window") == 1
    assert [e.message for e in events if isinstance(e, ev.Error)] == [OUT_OF_ROOM]
    (failed,) = [e for e in events if isinstance(e, ev.CompactionFailed)]
    assert failed.phase == "overflow"
    assert failed.message == "the compacted history would not be smaller; kept as is"
    assert not [e for e in events if isinstance(e, ev.CompactionCompleted)]
    assert len(fake_server.requests) == 2  # the request and the summary: no futile retry


async def test_compaction_request_overflow_prunes_oldest_tool_calls(
    fake_server: FakeModelServer,
) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events)
    calls = [sse.function_call("nop", "{}", call_id=f"c{i}", id=f"fc{i}") for i in range(2)]
    fake_server.expect_sse("/v1/responses", sse.tool_calls(calls[0]))
    fake_server.expect_sse("/v1/responses", sse.tool_calls(calls[1]))
    fake_server.expect_sse("/v1/responses", reply("done"))
    fake_server.expect_error("/v1/responses", 400, OVERFLOW)  # summarizing everything
    fake_server.expect_error("/v1/responses", 400, OVERFLOW)  # without c0
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))  # without c0 and c1
    await agent.run_turn("go")
    assert await agent.compact()
    await agent.aclose()
    call_ids = [
        {i.get("call_id") for i in fake_server.requests[n].json()["input"]} - {None}
        for n in (3, 4, 5)
    ]
    assert call_ids == [{"c0", "c1"}, {"c1"}, set()]
    (done,) = [e for e in events if isinstance(e, ev.CompactionCompleted)]
    assert done.items_pruned == 2


REMOTE_ITEM = {"type": "context_compaction", "id": "cmp_1", "encrypted_content": "opaque=="}


async def test_remote_compaction_v2(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events, remote=True)
    fake_server.expect_sse("/v1/responses", reply("a"))
    fake_server.expect_sse("/v1/responses", sse.stream_items([REMOTE_ITEM]))
    fake_server.expect_sse("/v1/responses", reply("b"))
    await agent.run_turn("one")
    assert await agent.compact()
    await agent.run_turn("two")
    await agent.aclose()
    request = fake_server.requests[1].json()
    assert request["input"][-1] == {"type": "context_compaction"}
    after = fake_server.requests[2].json()["input"]
    roles = [(i["type"], i.get("role")) for i in after]
    assert roles == [("message", "developer"), ("message", "user"), ("message", "user"),
                     ("context_compaction", None), ("message", "user")]  # fmt: skip
    assert after[3] == REMOTE_ITEM
    (done,) = [e for e in events if isinstance(e, ev.CompactionCompleted)]
    assert done.remote


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (sse.assistant_reply("no item"), "returned no context_compaction item"),
        (sse.stream_items([REMOTE_ITEM, {**REMOTE_ITEM, "id": "cmp_2"}]), "returned 2 context"),
        (sse.stream_items([{"type": "context_compaction", "id": "x"}]), "no encrypted_content"),
    ],
)
async def test_remote_compaction_errors_fall_back_to_local(
    fake_server: FakeModelServer, script: list[dict[str, Any]], message: str
) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events, remote=True)
    fake_server.expect_sse("/v1/responses", reply("a"))
    fake_server.expect_sse("/v1/responses", script)
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    await agent.run_turn("one")
    assert await agent.compact()
    await agent.aclose()
    warnings = [e.message for e in events if isinstance(e, ev.Warning)]
    assert len(warnings) == 1 and message in warnings[0] and "compacting locally" in warnings[0]
    (done,) = [e for e in events if isinstance(e, ev.CompactionCompleted)]
    assert not done.remote
    assert fake_server.requests[2].json()["input"][-1]["content"][0]["text"] == load_prompt(
        "summarize.md"
    )


async def test_remote_stream_cut_falls_back(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events, remote=True)
    agent.state.client.retry_policy = type(agent.state.client.retry_policy)(0, 0.0)
    fake_server.expect_sse("/v1/responses", reply("a"))
    fake_server.expect_sse("/v1/responses", sse.stream_items([REMOTE_ITEM]), cut_after=2)
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    await agent.run_turn("one")
    assert await agent.compact()
    await agent.aclose()
    warnings = [e.message for e in events if isinstance(e, ev.Warning)]
    assert "stream closed before response.completed" in warnings[0]


def test_summary_prompt_is_ours() -> None:
    text = load_prompt("summarize.md")
    assert "handoff" in text


async def test_auto_compaction_never_grows_the_history(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events, limit=100)
    fake_server.expect_sse("/v1/responses", reply("tiny", total=150))
    fake_server.expect_sse("/v1/responses", reply(SUMMARY))
    fake_server.expect_sse("/v1/responses", reply("next"))
    await agent.run_turn("one")
    await agent.run_turn("two")
    await agent.aclose()
    (failed,) = [e for e in events if isinstance(e, ev.CompactionFailed)]
    assert "would not be smaller" in failed.message
    assert "tiny" in json.dumps(fake_server.requests[2].json()["input"])


async def test_input_sent_during_manual_compaction_runs_afterwards(
    fake_server: FakeModelServer,
) -> None:
    from pycodex.agent.engine import Engine
    from pycodex.protocol.ops import Compact, Shutdown, UserTurn

    events: list[EngineEvent] = []
    agent = make_agent(fake_server, events)
    fake_server.expect_sse("/v1/responses", reply("a"))
    await agent.run_turn("one")
    fake_server.expect_sse("/v1/responses", reply(SUMMARY), delay_s=0.2)
    fake_server.expect_sse("/v1/responses", reply("after compaction"))
    engine = Engine(agent.state)
    runner = asyncio.create_task(engine.run())
    engine.submit(Compact())
    engine.submit(UserTurn.text("sent while compacting"))
    async for event in engine.events():
        if isinstance(event, ev.TurnComplete):
            assert event.last_agent_message == "after compaction"
            engine.submit(Shutdown())
    await runner
    await agent.aclose()
    assert "sent while compacting" in json.dumps(fake_server.requests[-1].json()["input"])
