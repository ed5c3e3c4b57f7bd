"""What frontends may ask of a turn: its id, a one-turn output schema, settings for the next
turns (`OverrideTurnContext`), and what events carry back (item ids, error kinds)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pycodex._records import replace
from pycodex.agent.threads import ManagedThread, ThreadManager
from pycodex.protocol import events as ev
from pycodex.protocol.ops import Op, OverrideTurnContext, Shutdown, UserTurn
from pycodex.protocol.policies import AskForApproval, SandboxPolicy
from support import sse_builders as sse
from support.clients import fake_provider
from support.fake_server import FakeModelServer
from support.threads import manager_config

RESPONSES = "/v1/responses"
SCHEMA = {"type": "object", "properties": {}, "additionalProperties": False}


async def run_turns(thread: ManagedThread, *ops: Op) -> list[ev.EngineEvent]:
    """Submit the ops, run until as many turns as UserTurns ended, return every event."""
    engine = thread.engine
    runner = asyncio.create_task(engine.run())
    turns = sum(isinstance(op, UserTurn) for op in ops)
    for op in ops:
        engine.submit(op)
    seen: list[ev.EngineEvent] = []
    async for event in engine.events():
        seen.append(event)
        if isinstance(event, ev.TurnComplete | ev.TurnAborted):
            turns -= 1
            if turns == 0:
                engine.submit(Shutdown())
    await runner
    return seen


async def test_turn_id_schema_and_overrides(fake_server: FakeModelServer, tmp_path: Path) -> None:
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("{}", item_id="msg_a"))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("free", "r2", "msg_b"))
    manager = ThreadManager(manager_config(fake_server, tmp_path), originator="test")
    thread = manager.start_thread(source="test")
    other = tmp_path / "elsewhere"
    other.mkdir()
    override = OverrideTurnContext(
        cwd=other,
        approval_policy=AskForApproval.UNTRUSTED,
        sandbox_policy=SandboxPolicy.full_access(),
        model="second-model",
        effort="high",
    )
    events = await run_turns(
        thread,
        UserTurn(UserTurn.text("one").items, "turn-chosen", SCHEMA),
        override,
        UserTurn.text("two"),
    )
    await manager.shutdown()
    started = [e.turn_id for e in events if isinstance(e, ev.TurnStarted)]
    assert started[0] == "turn-chosen" and started[1] != "turn-chosen"
    first, second = (request.json() for request in fake_server.requests)
    assert first["text"]["format"]["schema"] == SCHEMA
    assert "format" not in (second.get("text") or {})
    assert first["model"] == "test-model" and second["model"] == "second-model"
    assert second["reasoning"]["effort"] == "high"
    assert "<cwd>" + str(other) + "</cwd>" in str(second["input"])
    assert thread.state.context.approval_policy is AskForApproval.UNTRUSTED
    messages = [e for e in events if isinstance(e, ev.AgentMessage)]
    deltas = {e.item_id for e in events if isinstance(e, ev.AgentMessageDelta)}
    assert [m.item_id for m in messages] == ["msg_a", "msg_b"] and deltas == {"msg_a", "msg_b"}


async def test_a_failed_turn_says_what_kind_of_failure(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.expect_error(RESPONSES, 500, {"error": {"message": "down"}})
    config = manager_config(fake_server, tmp_path)
    provider = fake_provider(fake_server, request_max_retries=0, stream_max_retries=0)
    manager = ThreadManager(replace(config, model_provider=provider), originator="test")
    thread = manager.start_thread(source="test")
    events = await run_turns(thread, UserTurn.text("fail"))
    await manager.shutdown()
    errors = [e for e in events if isinstance(e, ev.Error)]
    assert [(e.kind, e.http_status) for e in errors] == [("internal_server_error", 500)]
