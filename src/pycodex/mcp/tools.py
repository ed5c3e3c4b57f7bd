"""An MCP server's tools as a tool namespace, and when a call needs the user's approval.

Each server becomes the namespace `mcp__<server>`, deferred behind `tool_search` where the model
can search, its functions sorted by (sanitised) name, each schema the server's `inputSchema`
without `title` keys. A call reports `McpToolCallBegin` / `McpToolCallEnd` (the `mcp_tool_call`
item of `exec --json`), runs concurrently with other calls, and is cut off after the server's
`tool_timeout_sec` (the turn goes on). Its `_meta` names the call, the turn and the thread
(`call_meta`), so a server can tell calls and sessions apart.

Approval (`default_tools_approval_mode`, or `[mcp_servers.<s>.tools.<t>] approval_mode`):
`approve` runs every tool; `auto` (the default) runs tools the server marks `readOnlyHint` and
asks for the others; `prompt` asks for every call. Asking under approval policy `never` (always
the case in `exec`) refuses the call, unless approvals are bypassed altogether
(`--dangerously-bypass-approvals-and-sandbox`: policy `never` with full access). In the REPL the
user answers per call; "for this session" / "always" allow that tool until the process ends.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, cast

from pycodex.mcp.config import ApprovalMode
from pycodex.mcp.connection import McpConnection, McpError, McpToolInfo
from pycodex.mcp.names import namespace_name, sanitize
from pycodex.mcp.output import McpCallResult, error_output, model_output
from pycodex.protocol import events as ev
from pycodex.protocol.policies import AskForApproval, SandboxMode
from pycodex.tools.base import BaseTool, ToolContext, ToolOutput
from pycodex.tools.namespaces import ToolNamespace

NEVER_REFUSAL = "MCP tool call requires approval, but approval policy is never"
DECLINED = "the user declined this MCP tool call; do not try it again another way"
NO_APPROVER = "MCP tool call requires approval, but nobody can answer in this session"


def server_namespace(connection: McpConnection, approved: set[tuple[str, str]]) -> ToolNamespace:
    """The namespace of a running server: its offered tools, sorted by the names sent."""
    config = connection.config
    tools: dict[str, BaseTool[Any]] = {}
    for info in connection.tools:
        name = sanitize(info.name)
        if config.offers(info.name) and name not in tools:
            tools[name] = _tool_class(name, info)(connection, info, approved)
    namespace = namespace_name(connection.name)
    description = connection.instructions or (
        f"Tools of the MCP server `{connection.name}`, called through the `{namespace}` namespace."
    )
    members = [tools[name] for name in sorted(tools)]
    return ToolNamespace(namespace, description, members, deferred=True, search_members=True)


def _tool_class(name: str, info: McpToolInfo) -> type[McpTool]:
    """A subclass per tool: a tool's name, description and schema are class attributes."""
    attributes = {
        "name": name,
        "description": info.description,
        "input_schema": strip_titles(info.input_schema),
    }
    return cast("type[McpTool]", type("McpTool", (McpTool,), attributes))


def strip_titles(schema: Any) -> Any:
    """The schema without `title` keys (they only cost tokens); everything else kept."""
    if isinstance(schema, dict):
        return {
            key: strip_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [strip_titles(value) for value in schema]
    return schema


class McpTool(BaseTool[dict[str, Any]]):
    # Calls to MCP servers may run at the same time as other calls.
    read_only: ClassVar[bool] = True
    checks_arguments: ClassVar[bool] = False

    def __init__(
        self, connection: McpConnection, info: McpToolInfo, approved: set[tuple[str, str]]
    ) -> None:
        self.connection = connection
        self.info = info
        self.approved = approved

    @property
    def server(self) -> str:
        return self.connection.name

    def search_text(self) -> str:
        extra = [self.info.name, self.server, self.info.title or ""]
        return " ".join([super().search_text(), *extra])

    async def run(self, context: ToolContext, args: dict[str, Any]) -> ToolOutput:
        started = time.monotonic()
        context.emit(ev.McpToolCallBegin(context.call_id, self.server, self.info.name, args))
        refusal = await self._approval(context, args)
        if refusal is not None:
            return self._failed(context, args, refusal, started)
        timeout = self.connection.config.tool_timeout_s
        try:
            meta = call_meta(context)
            result = await self.connection.call_tool(self.info.name, args, timeout, meta=meta)
        except TimeoutError:
            cause = f"timed out awaiting tools/call after {round(timeout * 1000)}ms"
            return self._failed(context, args, self._call_error(cause), started)
        except McpError as err:
            return self._failed(context, args, self._call_error(str(err)), started)
        return self._finished(context, args, result, started)

    def _call_error(self, cause: str) -> str:
        where = f"{self.server}/{self.info.name}"
        return f"tool call error: tool call failed for `{where}`\n\nCaused by:\n    {cause}"

    def _finished(
        self, context: ToolContext, args: dict[str, Any], result: McpCallResult, started: float
    ) -> ToolOutput:
        seconds = time.monotonic() - started
        end = ev.McpToolCallEnd(
            call_id=context.call_id,
            server=self.server,
            tool=self.info.name,
            arguments=args,
            result=result.item_result(),
            error=None,
            success=not result.is_error,
            duration_s=seconds,
        )
        context.emit(end)
        return model_output(result, seconds)

    def _failed(
        self, context: ToolContext, args: dict[str, Any], message: str, started: float
    ) -> ToolOutput:
        seconds = time.monotonic() - started
        end = ev.McpToolCallEnd(
            call_id=context.call_id,
            server=self.server,
            tool=self.info.name,
            arguments=args,
            result=None,
            error=message,
            success=False,
            duration_s=seconds,
        )
        context.emit(end)
        return error_output(message, seconds)

    async def _approval(self, context: ToolContext, args: dict[str, Any]) -> str | None:
        """None when the call may run, else why not."""
        mode = self.connection.config.approval_mode(self.info.name)
        if not needs_approval(mode, self.info.read_only_hint):
            return None
        policy = context.approval_policy
        if policy is AskForApproval.NEVER:
            bypassed = context.sandbox_policy.mode is SandboxMode.DANGER_FULL_ACCESS
            return None if bypassed else NEVER_REFUSAL
        key = (self.server, self.info.name)
        if key in self.approved:
            return None
        approver = context.services.approvals
        if approver is None:
            return NO_APPROVER
        request = ev.McpToolApprovalRequest(context.call_id, self.server, self.info.name, args)
        decision = await approver.ask(request)
        if decision in ("approved_for_session", "approved_always"):
            self.approved.add(key)
        return None if decision.startswith("approved") else DECLINED


def call_meta(context: ToolContext) -> dict[str, Any]:
    """The `_meta` of a `tools/call`, as upstream sends it: the model's call id and, inside a
    turn, the turn metadata object of the model requests and the thread, session and window."""
    meta: dict[str, Any] = {"callId": context.call_id}
    caller = context.caller
    if caller is not None:
        meta["x-codex-turn-metadata"] = caller.turn_metadata
        meta["threadId"] = caller.thread_id
        meta["sessionId"] = caller.session_id
        meta["windowId"] = caller.window_id
    return meta


def needs_approval(mode: ApprovalMode, read_only_hint: bool) -> bool:
    if mode == "approve":
        return False
    if mode == "prompt":
        return True
    return not read_only_hint
