"""Sub-agent records shared by the engine, the tools and the frontends.

`AgentStatus` is what `wait_agent`, `close_agent` and the notifications report, encoded as
upstream does: `"pending_init" | "running" | {"completed": msg|null} | {"errored": msg} |
"interrupted" | "shutdown" | "not_found"`.
"""

from __future__ import annotations

from typing import Literal

from pycodex._records import dataclass

AgentState = Literal[
    "pending_init", "running", "completed", "errored", "interrupted", "shutdown", "not_found"
]
_WITH_MESSAGE = ("completed", "errored")
FINAL_STATES: frozenset[AgentState] = frozenset(
    {"completed", "errored", "interrupted", "shutdown", "not_found"}
)


@dataclass(frozen=True, slots=True)
class AgentStatus:
    state: AgentState
    message: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def to_wire(self) -> str | dict[str, str | None]:
        """The tool-output form: a bare string, or `{state: message}` for completed/errored."""
        if self.state in _WITH_MESSAGE:
            return {self.state: self.message}
        return self.state


PENDING_INIT = AgentStatus("pending_init")
RUNNING = AgentStatus("running")
SHUTDOWN = AgentStatus("shutdown")
NOT_FOUND = AgentStatus("not_found")
INTERRUPTED = AgentStatus("interrupted")
