"""Every configured MCP server of a process: started together, shared, closed together.

`start` launches all enabled servers at once (the stdio servers' processes even before the SDK
is imported, so that their start-up overlaps that import) and waits for each up to its own
`startup_timeout_sec` (default 10 s), so one slow server costs its own start-up time, not the
sum. A server that fails or times out is left out and reported (`McpStartup.failures`); when it
is `required`, the caller must not start the session. The manager is shared by every thread of
a tree (sub-agents call the same servers) and closed once, at shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from pycodex._records import dataclass, field
from pycodex.mcp.config import McpServerConfig
from pycodex.mcp.connection import McpConnection, McpError
from pycodex.mcp.names import namespace_name
from pycodex.tools.namespaces import ToolNamespace

__all__ = ["McpConnectionManager", "McpStartup", "McpStartupFailure", "McpStatusListener"]

McpServerState = Literal["starting", "ready", "failed"]
# Told each server's progress as it happens: (server name, state, error when it failed).
McpStatusListener = Callable[[str, McpServerState, str | None], None]


@dataclass(frozen=True, slots=True)
class McpStartupFailure:
    server: str
    message: str
    required: bool

    def warning(self) -> str:
        return f"MCP server `{self.server}` failed to start: {self.message}; its tools are left out"


@dataclass
class McpStartup:
    """How start-up went: which servers failed, and which of those were required."""

    failures: list[McpStartupFailure] = field(default_factory=list)

    def fatal(self) -> str | None:
        """The one line to end the session with, when a required server failed."""
        required = [f for f in self.failures if f.required]
        if not required:
            return None
        reasons = "; ".join(f"{f.server}: {f.message}" for f in required)
        return f"required MCP servers failed to initialize: {reasons}"

    def warnings(self) -> list[str]:
        return [failure.warning() for failure in self.failures if not failure.required]


class McpConnectionManager:
    def __init__(
        self, servers: list[McpServerConfig], *, cwd: Path, env: Mapping[str, str]
    ) -> None:
        self._connections = [McpConnection(server, cwd=cwd, env=env) for server in servers]
        self._ready: list[McpConnection] = []
        # (server, tool) pairs the user allowed for the rest of the session.
        self.approved: set[tuple[str, str]] = set()

    async def start(self, on_status: McpStatusListener | None = None) -> McpStartup:
        if on_status is not None:
            for connection in self._connections:
                on_status(connection.name, "starting", None)
        # Stdio servers' processes first: they start up while the SDK is imported below.
        await asyncio.gather(*(connection.spawn() for connection in self._connections))
        import mcp.client.session  # noqa: F401  (most of a second; see docs/performance.md)

        outcomes = await asyncio.gather(*(self._start(c, on_status) for c in self._connections))
        startup = McpStartup()
        for connection, error in zip(self._connections, outcomes, strict=True):
            if error is None:
                self._ready.append(connection)
            else:
                failure = McpStartupFailure(connection.name, error, connection.config.required)
                startup.failures.append(failure)
        return startup

    async def _start(
        self, connection: McpConnection, on_status: McpStatusListener | None
    ) -> str | None:
        error = await self._started(connection)
        if on_status is not None:
            on_status(connection.name, "ready" if error is None else "failed", error)
        return error

    async def _started(self, connection: McpConnection) -> str | None:
        timeout = connection.config.startup_timeout_s
        try:
            await asyncio.wait_for(connection.start(), timeout)
        except TimeoutError:
            return f"timed out after {timeout:g}s waiting for the server to start"
        except McpError as err:
            return str(err)
        return None

    def connections(self) -> list[McpConnection]:
        """The servers that started, in name order."""
        return list(self._ready)

    def namespaces(self) -> list[ToolNamespace]:
        """One namespace per running server (a second server whose name sanitises the same as
        an earlier one is left out: the model could not tell them apart)."""
        from pycodex.mcp.tools import server_namespace

        namespaces: dict[str, ToolNamespace] = {}
        for connection in self._ready:
            name = namespace_name(connection.name)
            if name not in namespaces:
                namespaces[name] = server_namespace(connection, self.approved)
        return list(namespaces.values())

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._connections), return_exceptions=True)
