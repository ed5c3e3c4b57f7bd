"""The turn loop through `AgentLoop`: real client, real tools, fake model server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from pycodex import AgentLoop, BaseTool, ContextManager, ToolRegistry
from pycodex.protocol import events as ev
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import ToolContext
from support import sse_builders as sse
from support.clients import fake_client
from support.fake_server import FakeModelServer


class EchoTool(BaseTool):
    name = "echo"
    description = "Echo the provided text."
    input_schema = {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }

    async def run(self, context: ToolContext, args: dict[str, Any]) -> str:
        return str(args["text"])


class SlowReadTool(BaseTool):
    """Read-only, so several calls in one response run at the same time."""

    name = "slow_read"
    description = "Wait until every call has started."
    read_only = True
    input_schema = {"type": "object", "properties": {}}

    def __init__(self, expected: int) -> None:
        self.started = 0
        self.expected = expected
        self.all_started = asyncio.Event()

    async def run(self, context: ToolContext, args: dict[str, Any]) -> str:
        self.started += 1
        if self.started == self.expected:
            self.all_started.set()
        await asyncio.wait_for(self.all_started.wait(), timeout=5)
        return f"read {context.call_id}"


def make_agent(
    server: FakeModelServer, tools: list[BaseTool], events: list[EngineEvent] | None = None
) -> AgentLoop:
    registry = ToolRegistry(tools)
    context = ContextManager(
        base_instructions="test instructions",
        cwd=Path.cwd(),
        sandbox_policy=SandboxPolicy.read_only(),
    )
    sink = events.append if events is not None else None
    return AgentLoop(fake_client(server), registry, context, on_event=sink)


def outputs_of(body: dict[str, Any]) -> dict[str, Any]:
    return {i["call_id"]: i["output"] for i in body["input"] if i["type"] == "function_call_output"}


async def test_tool_round_trip(fake_server: FakeModelServer) -> None:
    call = sse.function_call("echo", json.dumps({"text": "hello"}), call_id="c1")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("It returned hello."))
    agent = make_agent(fake_server, [EchoTool()])
    result = await agent.run_turn("Call echo")
    await agent.aclose()
    assert result.output_text == "It returned hello."
    assert not result.failed
    second = fake_server.requests[1].json()
    assert outputs_of(second) == {"c1": "hello"}
    first = fake_server.requests[0].json()
    # each request of a thread extends the previous one
    assert second["input"][: len(first["input"])] == first["input"]
    assert second["tools"][0]["name"] == "echo"


async def test_unknown_tool_and_bad_arguments_go_back_to_the_model(
    fake_server: FakeModelServer,
) -> None:
    calls = [
        sse.function_call("nope", "{}", call_id="c1", id="fc_1"),
        sse.function_call("echo", '{"txt": 1}', call_id="c2", id="fc_2"),
        sse.function_call("echo", "{not json", call_id="c3", id="fc_3"),
        sse.function_call("echo", '{"text": 5}', call_id="c4", id="fc_4"),
    ]
    fake_server.expect_sse("/v1/responses", sse.tool_calls(*calls))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("done"))
    agent = make_agent(fake_server, [EchoTool()])
    result = await agent.run_turn("go")
    await agent.aclose()
    assert result.output_text == "done"
    outputs = outputs_of(fake_server.requests[1].json())
    assert outputs["c1"] == "unsupported call: nope"
    assert outputs["c2"] == "invalid arguments for echo: missing required field 'text'"
    assert outputs["c3"].startswith("failed to parse function arguments:")
    assert outputs["c4"] == "invalid arguments for echo: text: expected string, got integer"


async def test_read_only_calls_run_concurrently(fake_server: FakeModelServer) -> None:
    tool = SlowReadTool(expected=3)
    calls = [sse.function_call("slow_read", "{}", call_id=f"c{i}", id=f"fc{i}") for i in range(3)]
    fake_server.expect_sse("/v1/responses", sse.tool_calls(*calls))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    agent = make_agent(fake_server, [tool])
    result = await agent.run_turn("read")
    await agent.aclose()
    assert result.output_text == "ok"
    assert outputs_of(fake_server.requests[1].json()) == {f"c{i}": f"read c{i}" for i in range(3)}


async def test_stream_retry_keeps_completed_items(fake_server: FakeModelServer) -> None:
    call = sse.function_call("echo", '{"text": "x"}', call_id="c1")
    fake_server.expect_sse(
        "/v1/responses",
        [sse.response_created(), sse.output_item_done(call), sse.completed()],
        cut_after=2,
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("recovered"))
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, [EchoTool()], events)
    result = await agent.run_turn("go")
    await agent.aclose()
    assert result.output_text == "recovered"
    retries = [e for e in events if isinstance(e, ev.StreamRetry)]
    assert [r.message for r in retries] == [
        "Reconnecting... 1/2 (stream disconnected before completion: "
        "stream closed before response.completed)"
    ]
    # the call that completed before the cut was run, and the retry carries its output
    assert outputs_of(fake_server.requests[1].json()) == {"c1": "x"}


async def test_retries_exhausted_fail_the_turn(fake_server: FakeModelServer) -> None:
    for _ in range(3):
        fake_server.expect_sse("/v1/responses", [sse.failed("server_error", "down")])
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, [], events)
    result = await agent.run_turn("go")
    await agent.aclose()
    assert result.error == "stream disconnected before completion: down"
    assert [e.attempt for e in events if isinstance(e, ev.StreamRetry)] == [1, 2]
    complete = [e for e in events if isinstance(e, ev.TurnComplete)]
    assert complete and complete[0].failed


async def test_interrupt_aborts_and_answers_every_call(fake_server: FakeModelServer) -> None:
    class Hang(BaseTool):
        name = "hang"
        description = "Never returns."
        input_schema = {"type": "object", "properties": {}}
        entered = asyncio.Event()

        async def run(self, context: ToolContext, args: dict[str, Any]) -> str:
            self.entered.set()
            await asyncio.Event().wait()
            return "unreachable"

    tool = Hang()
    fake_server.expect_sse("/v1/responses", sse.tool_calls(sse.function_call("hang", "{}")))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("next turn works"))
    agent = make_agent(fake_server, [tool])
    task = asyncio.create_task(agent.run_turn("hang"))
    await asyncio.wait_for(tool.entered.wait(), timeout=5)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    result = await agent.run_turn("again")
    await agent.aclose()
    assert result.output_text == "next turn works"
    assert outputs_of(fake_server.requests[1].json()) == {"call_1": "aborted"}


async def test_an_internal_error_ends_the_turn_instead_of_hanging(
    fake_server: FakeModelServer,
) -> None:
    from pycodex.agent.engine import Engine
    from pycodex.protocol.ops import Shutdown, UserTurn

    class BrokenRecorder:
        def record_items(self, items: object) -> None:
            raise OSError("disk full")

        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: None

    agent = make_agent(fake_server, [])
    agent.state.recorder = BrokenRecorder()  # type: ignore[assignment]
    engine = Engine(agent.state)
    runner = asyncio.create_task(engine.run())
    engine.submit(UserTurn.text("hi"))
    seen: list[EngineEvent] = []
    async for event in engine.events():
        seen.append(event)
        if isinstance(event, ev.TurnComplete):
            engine.submit(Shutdown())
    await asyncio.wait_for(runner, timeout=10)
    await agent.aclose()
    errors = [e.message for e in seen if isinstance(e, ev.Error)]
    assert errors == ["internal error: OSError: disk full"]


async def test_token_counts_carry_the_model_window(fake_server: FakeModelServer) -> None:
    events: list[EngineEvent] = []
    agent = make_agent(fake_server, [], events)
    agent.state.model_context_window = 128_000
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    await agent.run_turn("hi")
    await agent.aclose()
    (count,) = [e for e in events if isinstance(e, ev.TokenCount)]
    assert count.model_context_window == 128_000 and count.last.total_tokens == 15
