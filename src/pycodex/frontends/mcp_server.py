"""`pycodex mcp-server`: pycodex as an MCP server on stdio, for other agents to call.

Two tools, with upstream's names and argument names:

- `codex` starts a session on `prompt` (with optional `model`, `profile`, `cwd`,
  `approval-policy`, `sandbox`, `config` overrides as `-c` would give them, `base-instructions`,
  `developer-instructions`, `compact-prompt`), runs one turn, and answers with the final message:
  text content plus `structuredContent: {threadId, content}`;
- `codex-reply` continues a session of this server by `threadId` (or the older
  `conversationId`) with the next `prompt`.

Each session is a root thread of its own `ThreadManager` (its own config, MCP servers, rollout).
Nobody can answer approval requests here, so they are denied, as in `pycodex exec`. Built on the
`mcp` SDK's low-level server; stdout carries the protocol only.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycodex.protocol import events as ev
from pycodex.protocol.ops import ApprovalDecision, Shutdown, UserTurn

if TYPE_CHECKING:
    from mcp import types

    from pycodex.agent.threads import ManagedThread, ThreadManager
    from pycodex.config import Config

# Resolves one `codex` call's config from its arguments; raises ConfigError.
ConfigForCall = Callable[[dict[str, Any]], "Config"]

_OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"threadId": {"type": "string"}, "content": {"type": "string"}},
    "required": ["threadId", "content"],
}
_CODEX_INPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "description": "The first user message of the session."},
        "model": {"type": "string", "description": "Model to use instead of the configured one."},
        "profile": {"type": "string", "description": "A profile of config.toml to apply."},
        "cwd": {
            "type": "string",
            "description": "Working directory; relative paths start at the server's own.",
        },
        "approval-policy": {
            "type": "string",
            "enum": ["untrusted", "on-failure", "on-request", "never"],
            "description": "When commands need approval (none can be given here: asked means "
            "denied).",
        },
        "sandbox": {
            "type": "string",
            "enum": ["read-only", "workspace-write", "danger-full-access"],
            "description": "Sandbox for the commands the agent runs.",
        },
        "config": {
            "type": "object",
            "additionalProperties": True,
            "description": "Config keys to override, as `-c key=value` would (dotted keys).",
        },
        "base-instructions": {"type": "string", "description": "Replaces the base instructions."},
        "developer-instructions": {
            "type": "string",
            "description": "Added as a developer message at the start of the session.",
        },
        "compact-prompt": {
            "type": "string",
            "description": "Prompt used when the conversation is compacted.",
        },
    },
    "required": ["prompt"],
}
_REPLY_INPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "threadId": {"type": "string", "description": "The session's id, from `codex`."},
        "conversationId": {"type": "string", "description": "Older name of threadId."},
        "prompt": {"type": "string", "description": "The next user message."},
    },
    "required": ["prompt"],
}


class _Session:
    """One root thread and its engine, driven one turn at a time."""

    def __init__(self, manager: ThreadManager, thread: ManagedThread) -> None:
        self.manager = manager
        self.thread = thread
        self.lock = asyncio.Lock()
        self.runner = asyncio.create_task(thread.engine.run())
        self.events = thread.engine.events()

    async def turn(self, prompt: str) -> tuple[str, str | None]:
        """The final message, and the error when the turn failed."""
        async with self.lock:
            engine = self.thread.engine
            engine.submit(UserTurn.text(prompt))
            error: str | None = None
            async for event in self.events:
                if isinstance(event, ev.ApprovalRequest):
                    engine.submit(ApprovalDecision(event.call_id, "denied"))
                elif isinstance(event, ev.Error):
                    error = event.message
                elif isinstance(event, ev.TurnComplete):
                    failed = event.failed and error is None
                    return event.last_agent_message or "", error or (
                        "turn failed" if failed else None
                    )
                elif isinstance(event, ev.TurnAborted):
                    return "", error or f"turn {event.reason}"
            return "", "the session ended"

    async def close(self) -> None:
        self.thread.engine.submit(Shutdown())
        async for _event in self.events:
            pass
        await self.runner
        await self.manager.shutdown()


class CodexMcpServer:
    def __init__(self, config_for_call: ConfigForCall, originator: str = "pycodex_mcp") -> None:
        self._config_for_call = config_for_call
        self._originator = originator
        self._sessions: dict[str, _Session] = {}

    async def serve_stdio(self) -> None:
        from mcp.server.lowlevel import Server
        from mcp.server.stdio import stdio_server

        from pycodex._version import __version__

        server: Server[Any] = Server(
            "pycodex",
            version=__version__,
            title="pycodex",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )
        try:
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())
        finally:
            for session in list(self._sessions.values()):
                await session.close()

    async def _list_tools(self, _ctx: Any, _params: Any) -> types.ListToolsResult:
        from mcp import types

        codex = types.Tool(
            name="codex",
            title="Codex",
            description="Run a pycodex session on a prompt and return its final message.",
            input_schema=_CODEX_INPUT,
            output_schema=_OUTPUT_SCHEMA,
        )
        reply = types.Tool(
            name="codex-reply",
            title="Codex Reply",
            description="Continue a pycodex session of this server with the next prompt.",
            input_schema=_REPLY_INPUT,
            output_schema=_OUTPUT_SCHEMA,
        )
        return types.ListToolsResult(tools=[codex, reply])

    async def _call_tool(self, _ctx: Any, params: types.CallToolRequestParams) -> Any:
        arguments = dict(params.arguments or {})
        try:
            if params.name == "codex":
                session = await self._start(arguments)
            elif params.name == "codex-reply":
                session = self._find(arguments)
            else:
                return _error(f"unknown tool {params.name!r}")
            prompt = arguments.get("prompt")
            if not isinstance(prompt, str) or not prompt:
                return _error("prompt is required")
        except _CallError as err:
            return _error(str(err))
        text, error = await session.turn(prompt)
        thread_id = session.thread.thread_id
        return _result(thread_id, text, error)

    async def _start(self, arguments: dict[str, Any]) -> _Session:
        from pycodex.agent.threads import ThreadManager
        from pycodex.config import ConfigError

        try:
            config = self._config_for_call(arguments)
            manager = ThreadManager(config, originator=self._originator)
            startup = await manager.start_mcp()
        except (ConfigError, ValueError) as err:
            raise _CallError(str(err)) from None
        if startup is not None:
            fatal = startup.fatal()
            if fatal is not None:
                await manager.shutdown()
                raise _CallError(fatal)
            for warning in startup.warnings():
                sys.stderr.write(f"warning: {warning}\n")
        try:
            thread = manager.start_thread(source="mcp")
        except ConfigError as err:
            await manager.shutdown()
            raise _CallError(str(err)) from None
        session = _Session(manager, thread)
        self._sessions[thread.thread_id] = session
        return session

    def _find(self, arguments: dict[str, Any]) -> _Session:
        thread_id = arguments.get("threadId") or arguments.get("conversationId")
        if not isinstance(thread_id, str) or not thread_id:
            raise _CallError("either threadId or conversationId must be provided")
        session = self._sessions.get(thread_id)
        if session is None:
            raise _CallError(f"no session {thread_id} in this server")
        return session


class _CallError(Exception):
    pass


def _result(thread_id: str, text: str, error: str | None) -> types.CallToolResult:
    from mcp import types

    shown = text if error is None else (f"{text}\n{error}" if text else error)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=shown)],
        structured_content={"threadId": thread_id, "content": text},
        is_error=error is not None,
    )


def _error(message: str) -> types.CallToolResult:
    from mcp import types

    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )
