"""`list_mcp_resources`, `list_mcp_resource_templates`, `read_mcp_resource`: the servers' resources.

Offered when MCP servers are configured. They find the running servers through the thread's
services (`mcp`), answer with JSON, and report an `mcp_tool_call` like the servers' own tools
(server `codex` when no server is named). Importing this module loads no SDK.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, ClassVar

from pycodex.protocol import events as ev
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput

if TYPE_CHECKING:
    from pycodex.mcp.connection import McpConnection
    from pycodex.mcp.manager import McpConnectionManager

_SERVER = {"type": "string", "description": "Name of a configured MCP server; omit for all."}
_CURSOR = {
    "type": "string",
    "description": "The nextCursor of an earlier answer, to get the next page (needs server).",
}


def resource_tools() -> list[BaseTool[Any]]:
    return [ListMcpResourcesTool(), ListMcpResourceTemplatesTool(), ReadMcpResourceTool()]


class _ResourceTool(BaseTool[dict[str, Any]]):
    read_only: ClassVar[bool] = True

    async def run(self, context: ToolContext, args: dict[str, Any]) -> ToolOutput:
        server = args.get("server") or None
        label = server if isinstance(server, str) else "codex"
        context.emit(ev.McpToolCallBegin(context.call_id, label, self.name, args))
        started = time.monotonic()
        try:
            payload = await self.answer(_manager(context), args)
        except ToolError as err:
            context.emit(self._end(context, label, args, None, str(err), started))
            raise
        text = json.dumps(payload, ensure_ascii=False)
        result = {"content": [{"type": "text", "text": text}], "structured_content": None}
        context.emit(self._end(context, label, args, result, None, started))
        return ToolOutput(text)

    def _end(
        self,
        context: ToolContext,
        server: str,
        args: dict[str, Any],
        result: dict[str, Any] | None,
        error: str | None,
        started: float,
    ) -> ev.McpToolCallEnd:
        return ev.McpToolCallEnd(
            context.call_id,
            server,
            self.name,
            args,
            result,
            error,
            error is None,
            time.monotonic() - started,
        )

    async def answer(self, manager: McpConnectionManager, args: dict[str, Any]) -> Any:
        raise NotImplementedError


class ListMcpResourcesTool(_ResourceTool):
    name = "list_mcp_resources"
    description = (
        "List the resources (files, records, documents...) that the configured MCP servers "
        "share, optionally for one server. Read one with read_mcp_resource. To find MCP tools, "
        "use tool_search instead where it is offered."
    )
    input_schema = {
        "type": "object",
        "properties": {"server": _SERVER, "cursor": _CURSOR},
        "additionalProperties": False,
    }

    async def answer(self, manager: McpConnectionManager, args: dict[str, Any]) -> Any:
        return await _listing(manager, args, "resources")


class ListMcpResourceTemplatesTool(_ResourceTool):
    name = "list_mcp_resource_templates"
    description = (
        "List the resource templates (parameterised resource URIs) that the configured MCP "
        "servers offer, optionally for one server."
    )
    input_schema = {
        "type": "object",
        "properties": {"server": _SERVER, "cursor": _CURSOR},
        "additionalProperties": False,
    }

    async def answer(self, manager: McpConnectionManager, args: dict[str, Any]) -> Any:
        return await _listing(manager, args, "resourceTemplates")


class ReadMcpResourceTool(_ResourceTool):
    name = "read_mcp_resource"
    description = "Read one resource of an MCP server, by the server's name and the resource URI."
    input_schema = {
        "type": "object",
        "properties": {
            "server": {"type": "string", "description": "Name of the MCP server."},
            "uri": {"type": "string", "description": "The resource URI, as listed."},
        },
        "required": ["server", "uri"],
        "additionalProperties": False,
    }

    async def answer(self, manager: McpConnectionManager, args: dict[str, Any]) -> Any:
        connection = _connection(manager, str(args["server"]))
        result = await _ask(connection.read_resource(str(args["uri"])), "resources/read")
        return {"server": connection.name, "uri": args["uri"], **result}


async def _listing(manager: McpConnectionManager, args: dict[str, Any], key: str) -> Any:
    method = "resources/list" if key == "resources" else "resources/templates/list"
    server, cursor = args.get("server"), args.get("cursor")
    if server:
        connection = _connection(manager, str(server))
        page = await _ask(_page(connection, key, cursor), method)
        answer = {"server": connection.name, key: page.get(key, [])}
        return answer | ({"nextCursor": page["nextCursor"]} if page.get("nextCursor") else {})
    if cursor:
        raise ToolError("cursor can only be used together with server")
    found: list[dict[str, Any]] = []
    for connection in manager.connections():
        try:
            page = await _page(connection, key, None)
        except Exception:  # a server without resources (or a broken one) lists nothing
            continue
        found += [{"server": connection.name, **entry} for entry in page.get(key, [])]
    return {key: found}


async def _page(connection: McpConnection, key: str, cursor: Any) -> dict[str, Any]:
    text = cursor if isinstance(cursor, str) and cursor else None
    if key == "resources":
        return await connection.list_resources(text)
    return await connection.list_resource_templates(text)


async def _ask(pending: Any, method: str) -> dict[str, Any]:
    from pycodex.mcp.connection import McpError

    try:
        result: dict[str, Any] = await pending
    except McpError as err:
        raise ToolError(f"{method} failed: {err}") from None
    return result


def _manager(context: ToolContext) -> McpConnectionManager:
    manager = context.services.mcp
    if manager is None:
        raise ToolError("no MCP server is running in this session")
    return manager


def _connection(manager: McpConnectionManager, server: str) -> McpConnection:
    for connection in manager.connections():
        if connection.name == server:
            return connection
    running = ", ".join(c.name for c in manager.connections()) or "none"
    raise ToolError(f"unknown MCP server `{server}` (running: {running})")
