"""One approval question on screen at a time, whoever asks: the conversation or a sub-agent.

Requests wait their turn in the order they came (one lock, first come first asked). The
conversation's own answers go to its engine; a sub-agent's go back through the thread manager
(`ApprovalQueue` is the tree's `ChildApprovalRouter`). A sub-agent that stops waiting (closed,
interrupted) withdraws its question: still queued, it is dropped; on screen, the prompt says so
and the input line is free again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from pycodex.frontends.repl.approvals import ask_user
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ReviewDecision

if TYPE_CHECKING:
    from pycodex.agent.child_approvals import ChildApproval
    from pycodex.agent.threads import ThreadManager

Answer = Callable[[ReviewDecision], None]
# Who asks (thread id, "" for the conversation) and which call.
Key = tuple[str, str]


class QueueHost(Protocol):
    """What the queue needs from the REPL app."""

    question_lock: asyncio.Lock

    def show(self, block: str) -> None: ...

    async def read_answer(self, label: str) -> str: ...

    def background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]: ...


class ApprovalQueue:
    def __init__(self, host: QueueHost, manager: ThreadManager | None) -> None:
        self._host = host
        self._manager = manager
        self._tasks: dict[Key, asyncio.Task[None]] = {}
        self._on_screen: Key | None = None

    def ask_root(self, request: ev.ApprovalRequest, answer: Answer) -> None:
        """A question of the conversation's own thread."""
        self._start(("", request.call_id), None, request, answer)

    # --- ChildApprovalRouter ------------------------------------------------------------------

    def ask(self, approval: ChildApproval) -> None:
        manager = self._manager
        assert manager is not None  # only a thread with a manager has sub-agents

        def answer(decision: ReviewDecision) -> None:
            manager.decide_child_approval(approval.thread_id, approval.call_id, decision)

        key = (approval.thread_id, approval.call_id)
        self._start(key, approval.agent_name, approval.request, answer)

    def withdraw(self, approval: ChildApproval) -> None:
        key = (approval.thread_id, approval.call_id)
        task = self._tasks.pop(key, None)
        if task is None or task.done():
            return
        if self._on_screen == key:
            self._host.show(f"  → withdrawn: agent {approval.agent_name} stopped waiting")
        task.cancel()

    # --- asking -------------------------------------------------------------------------------

    def _start(
        self, key: Key, agent: str | None, request: ev.ApprovalRequest, answer: Answer
    ) -> None:
        self._tasks[key] = self._host.background(self._ask(key, agent, request, answer))

    async def _ask(
        self, key: Key, agent: str | None, request: ev.ApprovalRequest, answer: Answer
    ) -> None:
        async with self._host.question_lock:
            self._on_screen = key
            try:
                decision = await ask_user(self._host, request, agent)
            finally:
                self._on_screen = None
                self._tasks.pop(key, None)
        answer(decision)
