"""What the sub-agent tools ask of the thread manager, seen from the calling thread.

The tools live in L2 and the manager in L3, so the tools only know this protocol; the manager
hands each thread an implementation bound to that thread (`ToolServices.agent_control`).
"""

from __future__ import annotations

from typing import Protocol

from pycodex._records import dataclass, field
from pycodex.protocol.agents import AgentStatus

THREAD_LIMIT_MESSAGE = "collab spawn failed: agent thread limit reached"


class AgentControlError(Exception):
    """A request the manager refuses; the message goes to the model as the tool's output."""


@dataclass(frozen=True, slots=True)
class SpawnRequest:
    message: str
    fork_context: bool = False
    model: str | None = None
    reasoning_effort: str | None = None
    agent_type: str | None = None


@dataclass(frozen=True, slots=True)
class SpawnedAgent:
    agent_id: str
    nickname: str | None
    model: str
    reasoning_effort: str | None


@dataclass(frozen=True, slots=True)
class WaitResult:
    statuses: dict[str, AgentStatus] = field(default_factory=dict)
    timed_out: bool = False


class AgentControl(Protocol):
    @property
    def thread_id(self) -> str:
        """The calling thread."""
        ...

    def nickname(self, agent_id: str) -> str | None: ...

    async def spawn(self, request: SpawnRequest, turn_id: str) -> SpawnedAgent:
        """Start a child; raises `AgentControlError` (e.g. the thread limit)."""
        ...

    async def send_input(
        self, target: str, message: str, interrupt: bool, turn_id: str
    ) -> tuple[str, AgentStatus]:
        """Queue a message (a new turn) for a child: its submission id and prior status."""
        ...

    async def wait(self, targets: list[str], timeout_s: float) -> WaitResult:
        """Every target already final; returns once at least one is, or on timeout."""
        ...

    async def close(self, target: str) -> AgentStatus:
        """Shut a child and its descendants down; its status before that."""
        ...

    async def resume(self, target: str) -> AgentStatus:
        """Reopen a closed child so it takes input again; its new status."""
        ...
