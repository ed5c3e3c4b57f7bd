"""`/agents` in the REPL: listing a conversation's sub-agents and following one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from pycodex.agent.threads import ThreadManager
from pycodex.frontends.repl.agents_view import AgentFollower, agent_rows, find_agent
from pycodex.tools.collab import SpawnRequest
from support import sse_builders as sse
from support.fake_server import FakeModelServer, user_message_contains
from support.threads import manager_config


class Screen:
    """The part of the REPL app a follower writes to."""

    colour = False

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def width(self) -> int:
        return 100

    def show(self, block: str) -> None:
        self.blocks.append(block)


async def test_list_and_follow_an_agent(fake_server: FakeModelServer, tmp_path: Path) -> None:
    fake_server.expect_sse(
        "/v1/responses", sse.assistant_reply("REPORT READY"), when=user_message_contains("TASK")
    )
    manager = ThreadManager(manager_config(fake_server, tmp_path), originator="test")
    root = manager.start_thread(source="test")
    assert agent_rows(manager, root.thread_id) == ["No sub-agents in this conversation."]
    child = await manager.spawn(root.thread_id, SpawnRequest("TASK"), "turn-1")
    name = child.identity.agent_nickname
    assert name is not None
    assert find_agent(manager, root.thread_id, name) is child
    assert find_agent(manager, root.thread_id, child.thread_id[:12]) is child
    screen = Screen()
    follower = AgentFollower(cast(Any, screen), child)
    statuses = await manager.wait([child.thread_id], 10)
    assert statuses is not None
    assert any(
        block.startswith(f"[{name}] ") and "REPORT READY" in block for block in screen.blocks
    )
    (row,) = agent_rows(manager, root.thread_id)
    assert row == f"{name} ({child.thread_id}) completed: REPORT READY"
    follower.stop()
    assert follower not in child.listeners
    await manager.shutdown()
