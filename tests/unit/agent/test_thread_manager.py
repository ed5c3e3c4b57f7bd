"""The thread manager in-process: wait timeouts, closing a subtree, interrupting a send."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pycodex.agent.threads import ThreadLimitError, ThreadManager
from pycodex.tools.collab import SpawnRequest
from support import sse_builders as sse
from support.fake_server import FakeModelServer, user_message_contains
from support.threads import manager_config

RESPONSES = "/v1/responses"
STDLIB_MCP_SERVER = Path(__file__).resolve().parents[2] / "support" / "mcp_stdlib_server.py"


async def test_wait_times_out_while_the_child_runs(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.expect_sse(
        RESPONSES, [sse.response_created()], stall_after=1, when=user_message_contains("SLOW")
    )
    manager = ThreadManager(manager_config(fake_server, tmp_path), originator="test")
    root = manager.start_thread(source="test")
    child = await manager.spawn(root.thread_id, SpawnRequest("SLOW task"), "turn-1")
    assert await manager.wait([child.thread_id], 0.05) is None
    assert child.status.state in ("pending_init", "running")
    await asyncio.to_thread(fake_server.wait_for_requests, 1)
    previous = await manager.close(child.thread_id)
    assert previous.state in ("pending_init", "running") and child.closed
    statuses = await manager.wait([child.thread_id], 0.05)
    assert statuses is not None and statuses[child.thread_id].state == "not_found"
    await manager.shutdown()


async def test_close_takes_the_subtree_down_and_limits_count_open_children(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    for marker in ("A-TASK", "B-TASK"):
        fake_server.expect_sse(
            RESPONSES, [sse.response_created()], stall_after=1, when=user_message_contains(marker)
        )
    manager = ThreadManager(
        manager_config(fake_server, tmp_path, max_depth=2, max_threads=2), originator="t"
    )
    root = manager.start_thread(source="test")
    child = await manager.spawn(root.thread_id, SpawnRequest("A-TASK"), "turn-1")
    grandchild = await manager.spawn(child.thread_id, SpawnRequest("B-TASK"), "turn-2")
    assert grandchild.identity.depth == 2
    assert grandchild.state.session_id == root.thread_id
    assert grandchild.identity.root_turn_id == "turn-1"
    try:
        await manager.spawn(root.thread_id, SpawnRequest("C-TASK"), "turn-1")
        raise AssertionError("a third open child must be refused")
    except ThreadLimitError:
        pass
    await asyncio.to_thread(fake_server.wait_for_requests, 2)
    previous = await manager.close(child.thread_id)
    assert previous.state in ("pending_init", "running")
    assert child.closed and grandchild.closed
    assert child.status.state == "shutdown"
    assert manager.open_children(root.thread_id) == 0
    notices = [item.to_wire() for item in root.state.pending_notifications]
    assert '"status":"shutdown"' in str(notices[-1]["content"])
    await manager.shutdown()


async def test_send_input_with_interrupt_starts_over_without_a_final_status(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.expect_sse(
        RESPONSES, [sse.response_created()], stall_after=1, when=user_message_contains("FIRST")
    )
    fake_server.expect_sse(
        RESPONSES, sse.assistant_reply("SECOND-DONE"), when=user_message_contains("SECOND")
    )
    manager = ThreadManager(manager_config(fake_server, tmp_path), originator="test")
    root = manager.start_thread(source="test")
    child = await manager.spawn(root.thread_id, SpawnRequest("FIRST"), "turn-1")
    await asyncio.to_thread(fake_server.wait_for_requests, 1)
    while child.status.state != "running":
        await child.changed.wait()
    assert manager.send_input(child.thread_id, "SECOND", interrupt=True) is not None
    statuses = await manager.wait([child.thread_id], 10)
    assert statuses is not None
    assert statuses[child.thread_id].state == "completed"
    assert statuses[child.thread_id].message == "SECOND-DONE"
    await manager.shutdown()


async def test_sub_agents_share_the_mcp_servers_of_their_tree(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    import sys

    from pycodex._records import replace
    from pycodex.mcp.tools import McpTool

    stdlib_server = STDLIB_MCP_SERVER
    servers = {
        "ping": {
            "command": sys.executable,
            "args": [str(stdlib_server)],
            "default_tools_approval_mode": "approve",
        }
    }
    config = replace(manager_config(fake_server, tmp_path), mcp_servers=servers)
    when = user_message_contains("CHILD-PING")
    call = {**sse.function_call("ping", "{}", call_id="p1"), "namespace": "mcp__ping"}
    fake_server.expect_sse(RESPONSES, sse.tool_calls(call), when=when)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("CHILD-DONE"), when=when)
    manager = ThreadManager(config, originator="test")
    startup = await manager.start_mcp()
    assert startup is not None and startup.failures == []
    root = manager.start_thread(source="test")
    child = await manager.spawn(root.thread_id, SpawnRequest("CHILD-PING"), "turn-1")
    statuses = await manager.wait([child.thread_id], 30)
    assert statuses is not None and statuses[child.thread_id].message == "CHILD-DONE"
    tools = [t.state.tools.get("ping", "mcp__ping") for t in (root, child)]
    assert all(isinstance(tool, McpTool) for tool in tools)
    assert tools[0].connection is tools[1].connection  # type: ignore[union-attr]
    (output,) = [
        item["output"]
        for item in fake_server.requests[-1].json()["input"]
        if item["type"] == "function_call_output" and item["call_id"] == "p1"
    ]
    assert output[1] == {"type": "input_text", "text": "pong"}
    await manager.shutdown()
