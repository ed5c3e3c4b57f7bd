"""Approval requests of sub-agents: routed to the tree's frontend, answered back into the child,
withdrawn when the child stops waiting, denied when no frontend listens. The real manager, real
engines, the real client against the fake model server (replies routed by request content), and
real commands."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from pycodex.agent.child_approvals import ChildApproval
from pycodex.agent.threads import ManagedThread, ThreadManager
from pycodex.protocol import events as ev
from pycodex.tools.collab import SpawnRequest
from support.fake_server import FakeModelServer, RecordedRequest
from support.threads import TOUCH_TASK as TASK
from support.threads import asking_config, script_touching_child


class Router:
    """A frontend's router that remembers what it was asked and what was withdrawn."""

    def __init__(self) -> None:
        self.asked: list[ChildApproval] = []
        self.withdrawn: list[ChildApproval] = []
        self.heard = asyncio.Event()

    def ask(self, approval: ChildApproval) -> None:
        self.asked.append(approval)
        self.heard.set()

    def withdraw(self, approval: ChildApproval) -> None:
        self.withdrawn.append(approval)
        self.heard.set()

    async def next_question(self) -> ChildApproval:
        while not self.asked:
            self.heard.clear()
            await self.heard.wait()
        return self.asked[-1]


def tool_output(request: RecordedRequest, call_id: str) -> str:
    (output,) = [
        item["output"]
        for item in request.json()["input"]
        if item.get("type") == "function_call_output" and item["call_id"] == call_id
    ]
    return output if isinstance(output, str) else json.dumps(output)


async def start(
    server: FakeModelServer, home: Path, router: Router | None
) -> tuple[ThreadManager, ManagedThread, ManagedThread]:
    manager = ThreadManager(asking_config(server, home), originator="test")
    root = manager.start_thread(source="test")
    if router is not None:
        manager.route_child_approvals(root.thread_id, router)
    child = await manager.spawn(root.thread_id, SpawnRequest(TASK), "turn-1")
    return manager, root, child


async def test_an_approved_request_runs_the_command_in_the_child(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server)
    router = Router()
    manager, root, child = await start(fake_server, tmp_path, router)
    question = await router.next_question()
    assert (question.thread_id, question.root_id) == (child.thread_id, root.thread_id)
    assert question.nickname == child.identity.agent_nickname and question.nickname
    assert question.turn_id == child.turn_id and question.turn_id
    assert isinstance(question.request, ev.ExecApprovalRequest)
    assert question.request.command.endswith("'touch made-by-child'")
    assert not (tmp_path / "made-by-child").exists()  # nothing runs before the answer

    assert manager.decide_child_approval(child.thread_id, question.call_id, "approved")
    statuses = await manager.wait([child.thread_id], 30)
    assert statuses is not None and statuses[child.thread_id].message == "CHILD-DONE"
    assert (tmp_path / "made-by-child").exists()
    assert "Process exited with code 0" in tool_output(fake_server.requests[-1], "k1")
    # A second answer to the same question is ignored.
    assert not manager.decide_child_approval(child.thread_id, question.call_id, "approved")
    assert router.withdrawn == []
    await manager.shutdown()


async def test_a_denied_request_tells_the_child(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server)
    router = Router()
    manager, _root, child = await start(fake_server, tmp_path, router)
    question = await router.next_question()
    assert manager.decide_child_approval(child.thread_id, question.call_id, "denied")
    statuses = await manager.wait([child.thread_id], 30)
    assert statuses is not None and statuses[child.thread_id].message == "CHILD-DONE"
    assert not (tmp_path / "made-by-child").exists()
    assert "did not allow" in tool_output(fake_server.requests[-1], "k1")
    await manager.shutdown()


async def test_without_a_router_the_request_is_denied(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server)
    manager, _root, child = await start(fake_server, tmp_path, None)
    statuses = await manager.wait([child.thread_id], 30)
    assert statuses is not None and statuses[child.thread_id].message == "CHILD-DONE"
    assert not (tmp_path / "made-by-child").exists()
    assert "did not allow" in tool_output(fake_server.requests[-1], "k1")
    assert not child.approvals.waiting
    await manager.shutdown()


async def test_closing_a_child_withdraws_its_pending_request(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server, finishes=False)
    router = Router()
    manager, _root, child = await start(fake_server, tmp_path, router)
    question = await router.next_question()
    previous = await manager.close(child.thread_id)
    assert previous.state == "running"
    assert router.withdrawn == [question]
    # The answer that comes too late is ignored, without an error.
    assert not manager.decide_child_approval(child.thread_id, question.call_id, "approved")
    assert not (tmp_path / "made-by-child").exists()
    await manager.shutdown()


async def test_interrupting_the_tree_withdraws_the_pending_request(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server, finishes=False)
    router = Router()
    manager, root, child = await start(fake_server, tmp_path, router)
    question = await router.next_question()
    manager.interrupt_tree(root.thread_id)
    statuses = await manager.wait([child.thread_id], 30)
    assert statuses is not None and statuses[child.thread_id].state == "interrupted"
    assert router.withdrawn == [question]
    assert not manager.decide_child_approval(child.thread_id, question.call_id, "approved")
    await manager.shutdown()


async def test_allowing_for_the_session_covers_the_whole_tree(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server)
    router = Router()
    manager, root, child = await start(fake_server, tmp_path, router)
    question = await router.next_question()
    assert manager.decide_child_approval(child.thread_id, question.call_id, "approved_for_session")
    await manager.wait([child.thread_id], 30)
    rules = root.state.services.prefix_rules
    assert rules is not None and rules.allows(["touch", "made-by-child"])
    assert child.state.services.prefix_rules is rules
    await manager.shutdown()


async def test_unregistering_the_router_denies_again(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server)
    router = Router()
    manager = ThreadManager(asking_config(fake_server, tmp_path), originator="test")
    root = manager.start_thread(source="test")
    manager.route_child_approvals(root.thread_id, router)
    manager.route_child_approvals(root.thread_id, None)
    child = await manager.spawn(root.thread_id, SpawnRequest(TASK), "turn-1")
    statuses = await manager.wait([child.thread_id], 30)
    assert statuses is not None and statuses[child.thread_id].message == "CHILD-DONE"
    assert router.asked == [] and not (tmp_path / "made-by-child").exists()
    await manager.shutdown()
