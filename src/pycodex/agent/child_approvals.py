"""Approval requests of sub-agents, routed to the frontend that owns their tree.

A child's engine asks for approval like any other (`ExecApprovalRequest`, ...), but the child's
event stream is read by the thread manager, not by a frontend. A frontend that can ask its user
registers a `ChildApprovalRouter` for a root thread (`ThreadManager.route_child_approvals`);
every request of a thread below that root then reaches it as a `ChildApproval`, and the answer
goes back through `ThreadManager.decide_child_approval`. A request whose child stops waiting
(its turn aborted, the child closed or shut down) is withdrawn: the router hears `withdraw`, and
a late answer is ignored. With no router for the tree the request is denied at once, and the
child's tool tells its model so (exec, batch, internal agents).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pycodex._records import dataclass, field
from pycodex.protocol import events as ev

if TYPE_CHECKING:
    from pycodex.agent.threads import ManagedThread


@dataclass(frozen=True)
class ChildApproval:
    """One question a sub-agent waits on: who asks, in which turn, and what."""

    thread_id: str
    root_id: str
    nickname: str | None
    role: str | None
    turn_id: str | None
    request: ev.ApprovalRequest

    @property
    def call_id(self) -> str:
        return self.request.call_id

    @property
    def agent_name(self) -> str:
        return self.nickname or self.thread_id


class ChildApprovalRouter(Protocol):
    """What a frontend implements to answer its sub-agents' approval requests. Both calls come
    from the manager's event pumps and must not block: queue the question, answer later."""

    def ask(self, approval: ChildApproval) -> None: ...

    def withdraw(self, approval: ChildApproval) -> None: ...


@dataclass
class PendingApprovals:
    """The questions one child waits on, by call id."""

    waiting: dict[str, ChildApproval] = field(default_factory=dict)

    def add(self, approval: ChildApproval) -> None:
        self.waiting[approval.call_id] = approval

    def take(self, call_id: str) -> ChildApproval | None:
        return self.waiting.pop(call_id, None)

    def take_all(self) -> list[ChildApproval]:
        taken = list(self.waiting.values())
        self.waiting.clear()
        return taken


class ApprovalRoutes:
    """The routers of the manager's trees, by root thread id."""

    def __init__(self) -> None:
        self._routers: dict[str, ChildApprovalRouter] = {}

    def register(self, root_id: str, router: ChildApprovalRouter | None) -> None:
        if router is None:
            self._routers.pop(root_id, None)
        else:
            self._routers[root_id] = router

    def ask(self, root_id: str, child: ManagedThread, request: ev.ApprovalRequest) -> bool:
        """Hand the request to the tree's router; False when the tree has none."""
        router = self._routers.get(root_id)
        if router is None:
            return False
        identity = child.identity
        approval = ChildApproval(
            thread_id=child.thread_id,
            root_id=root_id,
            nickname=identity.agent_nickname,
            role=identity.agent_role,
            turn_id=child.turn_id,
            request=request,
        )
        child.approvals.add(approval)
        router.ask(approval)
        return True

    def withdraw(self, pending: PendingApprovals) -> None:
        """The child stopped waiting (its turn ended, it was closed): its open questions are
        void, and the frontend that holds them is told."""
        for approval in pending.take_all():
            router = self._routers.get(approval.root_id)
            if router is not None:
                router.withdraw(approval)
