"""The engine's side of approvals: a question becomes an event, the answer comes back as an op.

Tools await `ApprovalBroker.ask`; the broker emits the request event and parks a future under
the call id; the `ApprovalDecision` op resolves it. An `abort` answer also interrupts the turn.
A turn that is cancelled while waiting leaves no future behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pycodex.agent.state import Emit
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ReviewDecision

ApprovalRequest = ev.ApprovalRequest
# Decides before anyone is asked (a PermissionRequest hook); None lets the question go out.
BeforeAsk = Callable[[ApprovalRequest], Awaitable[ReviewDecision | None]]


class ApprovalBroker:
    def __init__(self, emit: Emit, interrupt: Callable[[], None]) -> None:
        self._emit = emit
        self._interrupt = interrupt
        self._waiting: dict[str, asyncio.Future[ReviewDecision]] = {}
        self.before_ask: BeforeAsk | None = None

    async def ask(self, request: ApprovalRequest) -> ReviewDecision:
        if self.before_ask is not None:
            decided = await self.before_ask(request)
            if decided is not None:
                return decided
        future: asyncio.Future[ReviewDecision] = asyncio.get_running_loop().create_future()
        self._waiting[request.call_id] = future
        self._emit(request)
        try:
            decision = await future
        finally:
            self._waiting.pop(request.call_id, None)
        if decision == "abort":
            self._interrupt()
        return decision

    def resolve(self, call_id: str, decision: ReviewDecision) -> bool:
        """Deliver an answer; False when nothing waits for that call id (answered late)."""
        future = self._waiting.get(call_id)
        if future is None or future.done():
            return False
        future.set_result(decision)
        return True

    @property
    def pending(self) -> list[str]:
        return list(self._waiting)
