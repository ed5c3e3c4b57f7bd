"""`ToolServices`: the long-lived helpers a running tool may use, one typed field each.

Whoever builds a thread fills the fields (`agent/build.build_thread`, the engine for `approvals`);
a tool reads `context.services.<field>` and treats None as "nobody provides this here" (library
use, non-interactive `exec`). A new service is one more optional field below, plus a line in
`shutdown` when it holds processes or connections.

Importing this module loads no machinery: the services' classes are named for the type checker
only, and each is imported by whoever creates it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pycodex._records import dataclass

if TYPE_CHECKING:
    from pycodex.mcp.manager import McpConnectionManager
    from pycodex.protocol.events import ApprovalRequest
    from pycodex.protocol.ops import ReviewDecision
    from pycodex.tools.builtin.unified_exec import UnifiedExecState
    from pycodex.tools.builtin.user_input import UserInputProvider
    from pycodex.tools.collab.control import AgentControl
    from pycodex.tools.rules import PrefixRules


class Approver(Protocol):
    """Puts a command or a patch to the user and returns the answer (the engine's broker)."""

    async def ask(self, request: ApprovalRequest) -> ReviewDecision: ...


@dataclass
class ToolServices:
    """The helpers of one thread's tools; each None when this thread has no such helper."""

    # Asks the user to allow what the sandbox or the approval policy does not (the engine).
    approvals: Approver | None = None
    # Command prefixes the user allowed, for the session or for good ($CODEX_HOME/rules).
    prefix_rules: PrefixRules | None = None
    # The frontend's user, for `request_user_input`.
    user_input: UserInputProvider | None = None
    # The process manager `exec_command` and `write_stdin` share.
    unified_exec: UnifiedExecState | None = None
    # The thread manager, as the sub-agent tools see it (set for threads that may spawn).
    agent_control: AgentControl | None = None
    # The MCP servers of the process, for the resource tools (set when servers run).
    mcp: McpConnectionManager | None = None

    async def shutdown(self) -> None:
        """Release what the services hold (running processes); the thread is ending."""
        if self.unified_exec is not None:
            await self.unified_exec.shutdown()
