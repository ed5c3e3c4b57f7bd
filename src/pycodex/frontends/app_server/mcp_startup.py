"""The configured MCP servers in the app-server: started once, reported to every thread.

The process shares one set of servers (`ThreadManager.start_mcp`), started by the first
`thread/start`, `thread/resume` or `thread/fork` before its thread is built, so their tools reach
it. That thread hears each server go `starting` and then `ready` or `failed`
(`mcpServer/startupStatus/updated`) as it happens; a thread loaded later hears each server's
state once. A `required` server that fails makes the request fail (-32603) and stops the others,
so the next thread start tries again; an optional one that fails stays out for the process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pycodex.config import ConfigError
from pycodex.frontends.app_server import rpc
from pycodex.frontends.app_server.translate import Notify

if TYPE_CHECKING:
    from pycodex.agent.threads import ThreadManager
    from pycodex.mcp.manager import McpServerState

METHOD = "mcpServer/startupStatus/updated"


class McpStartupReporter:
    def __init__(self, notify: Notify) -> None:
        self._notify = notify
        self._started = False
        # Each server's latest state and error, in the order they started.
        self._states: dict[str, tuple[McpServerState, str | None]] = {}

    async def ready_for(self, manager: ThreadManager, thread_id: str) -> None:
        """Make sure the servers run before `thread_id` is built; raises `RpcError`."""
        if self._started:
            for name, (state, error) in self._states.items():
                self._send(thread_id, name, state, error)
            return

        def heard(name: str, state: McpServerState, error: str | None) -> None:
            if error is not None:
                error = f"MCP server `{name}` failed to start: {error}"
            self._states[name] = (state, error)
            self._send(thread_id, name, state, error)

        try:
            startup = await manager.start_mcp(heard)
        except ConfigError as err:  # checked at launch; only a bug gets here
            raise rpc.invalid_request(str(err)) from None
        fatal = startup.fatal() if startup is not None else None
        if fatal is not None:
            self._states.clear()
            await manager.stop_mcp()
            raise rpc.RpcError(rpc.INTERNAL_ERROR, f"error creating thread: {fatal}")
        self._started = True

    def _send(self, thread_id: str, name: str, state: McpServerState, error: str | None) -> None:
        params = {
            "threadId": thread_id,
            "name": name,
            "status": state,
            "error": error,
            "failureReason": None,
        }
        self._notify(METHOD, params)
