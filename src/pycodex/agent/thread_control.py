"""The pieces of spawning and steering sub-agents that are not the manager's bookkeeping:
the `AgentControl` each thread's tools call, a child's configuration, a forked history, the
parent notification, nicknames."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pycodex._records import replace
from pycodex.protocol.agents import AgentStatus
from pycodex.protocol.items import Message, ResponseItem, developer_message, user_message
from pycodex.sessions.ids import new_random_id
from pycodex.tools.collab.control import (
    THREAD_LIMIT_MESSAGE,
    AgentControlError,
    SpawnedAgent,
    SpawnRequest,
    WaitResult,
)
from pycodex.tools.namespaces import deferred_note

if TYPE_CHECKING:
    from pycodex.agent.rollout import RecordedThread
    from pycodex.agent.state import ThreadState
    from pycodex.agent.threads import ManagedThread, ThreadManager
    from pycodex.config import Config
    from pycodex.config.agents import AgentRole

# Our own list: people whose work the agents stand on.
NICKNAMES = (
    "Lovelace", "Hopper", "Turing", "Noether", "Shannon", "Dijkstra", "Knuth", "Liskov",
    "Hamilton", "Ritchie", "Backus", "Lamport", "Hoare", "Wirth", "McCarthy", "Perlis",
    "Engelbart", "Kay", "Allen", "Goldwasser", "Rivest", "Valiant", "Tarjan", "Karp",
    "Cerf", "Kahn", "Sammet", "Bartik", "Conway", "Euler", "Gauss", "Ramanujan",
)  # fmt: skip


class ThreadControl:
    """`AgentControl` for the tools of one thread: the manager, seen from that thread."""

    def __init__(self, manager: ThreadManager, state: ThreadState) -> None:
        self._manager = manager
        self._state = state

    @property
    def thread_id(self) -> str:
        return self._state.thread_id

    def nickname(self, agent_id: str) -> str | None:
        thread = self._manager.get(agent_id)
        return thread.identity.agent_nickname if thread is not None else None

    async def spawn(self, request: SpawnRequest, turn_id: str) -> SpawnedAgent:
        from pycodex.agent.threads import ThreadLimitError

        try:
            child = await self._manager.spawn(self.thread_id, request, turn_id)
        except ThreadLimitError:
            raise AgentControlError(THREAD_LIMIT_MESSAGE) from None
        settings = child.state.client.settings
        return SpawnedAgent(
            child.thread_id,
            child.identity.agent_nickname,
            settings.model,
            settings.reasoning_effort,
        )

    async def send_input(
        self, target: str, message: str, interrupt: bool, turn_id: str
    ) -> tuple[str, AgentStatus]:
        child = self._manager.get(target)
        if child is not None:
            child.identity.parent_turn_id = turn_id
        before = self._manager.send_input(target, message, interrupt)
        if before is None:
            raise AgentControlError(f"agent {target} not found (closed or never spawned)")
        return new_random_id(), before

    async def wait(self, targets: list[str], timeout_s: float) -> WaitResult:
        statuses = await self._manager.wait(targets, timeout_s)
        if statuses is None:
            return WaitResult({}, timed_out=True)
        return WaitResult(statuses)

    async def close(self, target: str) -> AgentStatus:
        return await self._manager.close(target)

    async def resume(self, target: str) -> AgentStatus:
        from pycodex.agent.threads import ThreadLimitError

        try:
            return await self._manager.resume(target)
        except ThreadLimitError:
            raise AgentControlError(THREAD_LIMIT_MESSAGE) from None


def child_config(
    parent: ManagedThread, request: SpawnRequest, roles: dict[str, AgentRole]
) -> tuple[Config, AgentRole | None]:
    """The config a child runs with: the parent's, its current model and effort, then the
    role's settings, then the spawn's own overrides. Raises `AgentControlError` for an
    unknown role."""
    role = None
    if request.agent_type and request.agent_type != "default":
        role = roles.get(request.agent_type)
        if role is None:
            known = ", ".join(["default", *roles])
            raise AgentControlError(f"unknown agent_type {request.agent_type!r} (known: {known})")
    settings = parent.state.client.settings
    model = settings.model
    effort = settings.reasoning_effort
    instructions = parent.config.developer_instructions
    if role is not None:
        model = role.model or model
        effort = role.model_reasoning_effort or effort
        if role.developer_instructions:
            instructions = "\n\n".join(filter(None, [instructions, role.developer_instructions]))
    if request.model and request.model != model:
        model, effort = request.model, None
    effort = request.reasoning_effort or effort
    config = replace(
        parent.config,
        model=model,
        model_reasoning_effort=effort,
        developer_instructions=instructions,
    )
    return config, role


def forked_history(parent: ThreadState, child: ThreadState) -> list[ResponseItem]:
    """The parent's history up to and including its latest user message (not the spawn call),
    plus a note when namespaces the parent had deferred are gone for the child."""
    history = parent.context.history
    end = len(history)
    for index in range(len(history) - 1, -1, -1):
        item = history[index]
        if isinstance(item, Message) and item.role == "user":
            end = index + 1
            break
    items: list[ResponseItem] = list(history[:end])
    kept = {namespace.name for namespace in child.tools.deferred_namespaces()}
    removed = [ns for ns in parent.tools.deferred_namespaces() if ns.name not in kept]
    if removed:
        items.append(developer_message(deferred_note(removed, "Removed deferred tool namespaces")))
    return items


def notification(agent_id: str, status: AgentStatus) -> Message:
    """The user message a parent gets when a child reaches a final status."""
    body = json.dumps(
        {"agent_path": agent_id, "status": status.to_wire()},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return user_message(f"<subagent_notification>\n{body}\n</subagent_notification>")


def pick_nickname(taken: Iterable[str | None], role: AgentRole | None) -> str:
    """A name no other thread of the process uses, from the role's list or ours."""
    import random  # only when a sub-agent is spawned: `random` costs every exec ~1 ms to import

    used = set(taken)
    pool = list(role.nickname_candidates) if role is not None and role.nickname_candidates else []
    pool = pool or list(NICKNAMES)
    free = [name for name in pool if name not in used]
    if free:
        return random.choice(free)
    base = random.choice(pool)
    number = 2
    while f"{base} {number}" in used:
        number += 1
    return f"{base} {number}"


def recorded_from_state(state: ThreadState) -> RecordedThread | None:
    """A closed child as a recorded thread to continue (None when it never wrote a file)."""
    from pycodex.agent.rollout import RecordedThread

    path = state.rollout_path
    if path is None or not path.exists():
        return None
    return RecordedThread(
        path=path,
        thread_id=state.thread_id,
        session_id=state.session_id,
        history=state.context.history,
        base_instructions=state.context.base_instructions,
        identity=state.identity,
    )
