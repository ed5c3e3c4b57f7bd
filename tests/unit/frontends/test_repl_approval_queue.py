"""The REPL's approval queue: one question on screen at a time, the conversation's and its
sub-agents' in the order they came, answers to the right thread, withdrawn questions dropped.
A real thread manager and a real child (the fake model server scripts it); the screen and input
line are a recorder standing in for the terminal (the tmux test drives the real one)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from pycodex.agent.threads import ManagedThread, ThreadManager
from pycodex.frontends.repl.approval_queue import ApprovalQueue
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ReviewDecision
from pycodex.tools.collab import SpawnRequest
from support.fake_server import FakeModelServer
from support.threads import TOUCH_TASK, asking_config, script_touching_child


class Terminal:
    """Blocks shown and the answer line: `read_answer` waits until the test types a reply."""

    def __init__(self) -> None:
        self.question_lock = asyncio.Lock()
        self.blocks: list[str] = []
        self.reading: asyncio.Future[str] | None = None
        self.changed = asyncio.Event()

    def show(self, block: str) -> None:
        self.blocks.append(block)
        self.changed.set()

    async def read_answer(self, label: str) -> str:
        self.reading = asyncio.get_running_loop().create_future()
        self.changed.set()
        try:
            return await self.reading
        finally:
            self.reading = None
            self.changed.set()

    def background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        self.changed.set()  # a question arrived (it may wait for the one on screen)
        return asyncio.create_task(work)

    async def until(self, check: Any) -> None:
        while not check():
            self.changed.clear()
            await self.changed.wait()

    async def answer(self, reply: str) -> None:
        await self.until(lambda: self.reading is not None)
        assert self.reading is not None
        self.reading.set_result(reply)
        await self.until(lambda: self.reading is None or not self.reading.done())

    def questions(self) -> list[str]:
        return [block for block in self.blocks if block.startswith("? ")]


def root_request(call_id: str) -> ev.ExecApprovalRequest:
    return ev.ExecApprovalRequest(call_id, "rm -rf build", Path("/w"), None, ("rm",), True)


async def start(
    server: FakeModelServer, home: Path, terminal: Terminal
) -> tuple[ThreadManager, ApprovalQueue, ManagedThread]:
    manager = ThreadManager(asking_config(server, home), originator="test")
    root = manager.start_thread(source="test")
    queue = ApprovalQueue(terminal, manager)
    manager.route_child_approvals(root.thread_id, queue)
    child = await manager.spawn(root.thread_id, SpawnRequest(TOUCH_TASK), "turn-1")
    return manager, queue, child


async def test_questions_wait_their_turn_and_answers_reach_their_thread(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server)
    terminal = Terminal()
    root_answers: list[ReviewDecision] = []
    manager, queue, child = await start(fake_server, tmp_path, terminal)
    queue.ask_root(root_request("r1"), root_answers.append)
    await terminal.until(lambda: child.approvals.waiting)  # the child asked too, meanwhile
    await terminal.answer("n")
    assert root_answers == ["denied"]
    await terminal.until(lambda: len(terminal.questions()) == 2)
    first, second = terminal.questions()
    assert first.startswith("? Run outside the sandbox: rm -rf build")
    name = child.identity.agent_nickname
    assert second.startswith(f"? Agent {name} wants to run in the sandbox: ")
    assert "touch made-by-child" in second
    await terminal.answer("y")
    statuses = await manager.wait([child.thread_id], 30)
    assert statuses is not None and statuses[child.thread_id].message == "CHILD-DONE"
    assert (tmp_path / "made-by-child").exists()
    assert root_answers == ["denied"]
    await manager.shutdown()


async def test_a_queued_question_of_a_closed_child_is_dropped(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server, finishes=False)
    terminal = Terminal()
    root_answers: list[ReviewDecision] = []
    manager, queue, child = await start(fake_server, tmp_path, terminal)
    queue.ask_root(root_request("r1"), root_answers.append)
    await terminal.until(lambda: child.approvals.waiting)
    await manager.close(child.thread_id)
    await terminal.answer("y")
    assert root_answers == ["approved"]
    assert len(terminal.questions()) == 1 and terminal.reading is None
    assert not terminal.question_lock.locked()
    await manager.shutdown()


async def test_the_question_on_screen_is_withdrawn_when_its_child_stops(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    script_touching_child(fake_server, finishes=False)
    terminal = Terminal()
    manager, queue, child = await start(fake_server, tmp_path, terminal)
    await terminal.until(lambda: terminal.reading is not None)
    assert "wants to run" in terminal.questions()[0]
    await manager.close(child.thread_id)
    await terminal.until(lambda: terminal.reading is None)
    assert terminal.blocks[-1] == (
        f"  → withdrawn: agent {child.identity.agent_nickname} stopped waiting"
    )
    # The input line is free again: the next question is asked at once.
    answers: list[ReviewDecision] = []
    queue.ask_root(root_request("r2"), answers.append)
    await terminal.answer("s")
    assert answers == ["approved_for_session"]
    await manager.shutdown()
