"""PreToolUse and PostToolUse around each tool call (the engine's side of `pycodex.hooks`).

Hooks see tools by upstream's names: the shell tools (`exec_command`, `shell_command`,
`shell`) are `Bash` with `{"command": "<script>"}`, `apply_patch` is `apply_patch` (also matched
by `Edit` and `Write`) with `{"command": "<patch>"}`, an MCP tool is `mcp__<server>__<tool>` with
its arguments. Other tools run without hooks, as upstream.

A PreToolUse deny answers the call with `Command blocked by PreToolUse hook: R. Command: C`
(the tool never runs); `updatedInput` runs the call with other arguments while history keeps
the model's own call. PostToolUse may replace the output the model sees (`decision: block`).
Context either adds becomes a developer message just before the call's output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pycodex._records import dataclass, replace
from pycodex.protocol import events as ev
from pycodex.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    ResponseItem,
    ToolSearchCall,
    developer_message,
)
from pycodex.tools.base import ToolContext, ToolOutput
from pycodex.tools.registry import ToolCall, ToolRegistry, dispatch

if TYPE_CHECKING:
    from pycodex.agent.hook_points import ThreadHooks
    from pycodex.agent.state import Emit, ThreadState
    from pycodex.hooks.events import HookEventName

# The argument holding the script, per shell tool; `shell` takes an argv.
SHELL_ARGUMENT = {"exec_command": "cmd", "shell_command": "command", "shell": "command"}
PATCH_ALIASES = ("Edit", "Write")
TOOL_EVENTS: tuple[HookEventName, ...] = ("PreToolUse", "PostToolUse", "PermissionRequest")


@dataclass(frozen=True)
class HookTool:
    """A call as hooks see it."""

    name: str
    aliases: tuple[str, ...]
    tool_input: Any

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def command(self) -> str | None:
        command = self.tool_input.get("command") if isinstance(self.tool_input, dict) else None
        return command if isinstance(command, str) else None


def hook_tool(call: ToolCall) -> HookTool | None:
    """The hook view of a call, or None for tools hooks do not cover."""
    if isinstance(call, ToolSearchCall):
        return None
    if isinstance(call, CustomToolCall):
        if call.name == "apply_patch":
            return HookTool("apply_patch", PATCH_ALIASES, {"command": call.input})
        return None
    args = _arguments(call)
    namespace = call.namespace or ""
    if namespace.startswith("mcp__") or (not namespace and call.name.startswith("mcp__")):
        name = f"{namespace}__{call.name}" if namespace else call.name
        return HookTool(name, (), args if args is not None else {})
    if args is None or namespace:
        return None
    if call.name == "apply_patch" and isinstance(args.get("input"), str):
        return HookTool("apply_patch", PATCH_ALIASES, {"command": args["input"]})
    script = _script(call.name, args.get(SHELL_ARGUMENT.get(call.name, "")))
    return HookTool("Bash", (), {"command": script}) if script is not None else None


def _arguments(call: FunctionCall) -> dict[str, Any] | None:
    try:
        args = json.loads(call.arguments or "{}")
    except ValueError:
        return None
    return args if isinstance(args, dict) else None


def _script(tool: str, value: Any) -> str | None:
    if tool in ("exec_command", "shell_command"):
        return value if isinstance(value, str) else None
    if tool == "shell" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        if len(value) == 3 and value[1] in ("-c", "-lc"):
            return str(value[2])
        import shlex

        return shlex.join(value)
    return None


def rewritten(call: ToolCall, tool: HookTool, updated: Any) -> ToolCall | None:
    """`call` with the arguments a PreToolUse hook gave, or None when they do not fit."""
    if isinstance(call, ToolSearchCall):
        return None
    if tool.name not in ("Bash", "apply_patch"):  # an MCP tool: the new arguments as given
        if not isinstance(updated, dict) or not isinstance(call, FunctionCall):
            return None
        return _function_call(call, updated)
    command = updated.get("command") if isinstance(updated, dict) else None
    if not isinstance(command, str):
        return None
    if isinstance(call, CustomToolCall):
        return CustomToolCall(name=call.name, input=command, call_id=call.call_id)
    args = _arguments(call) or {}
    if call.name == "apply_patch":
        args["input"] = command
    elif call.name == "shell":
        args["command"] = ["bash", "-lc", command]
    else:
        args[SHELL_ARGUMENT[call.name]] = command
    return _function_call(call, args)


def _function_call(call: FunctionCall, args: dict[str, Any]) -> FunctionCall:
    return FunctionCall(
        name=call.name, arguments=json.dumps(args), call_id=call.call_id, namespace=call.namespace
    )


def blocked_message(tool: HookTool, reason: str) -> str:
    """What the model is told instead of running the call (upstream's words)."""
    command = tool.command
    if tool.name in ("Bash", "apply_patch") and command is not None:
        return f"Command blocked by PreToolUse hook: {reason}. Command: {command}"
    return f"Tool call blocked by PreToolUse hook: {reason}. Tool: {tool.name}"


def output_item(call: FunctionCall | CustomToolCall, text: str) -> ResponseItem:
    if isinstance(call, CustomToolCall):
        return CustomToolCallOutput(call_id=call.call_id, output=text)
    return FunctionCallOutput(call_id=call.call_id, output=text)


class ToolHooks:
    """The `around` of `dispatch_all` for one batch of calls of a turn."""

    def __init__(self, hooks: ThreadHooks, state: ThreadState, turn_id: str, emit: Emit) -> None:
        self._hooks = hooks
        self._state = state
        self._turn_id = turn_id
        self._emit = emit
        self._contexts: dict[str, list[str]] = {}

    async def __call__(
        self, registry: ToolRegistry, call: ToolCall, context: ToolContext, limit: int | None
    ) -> tuple[ResponseItem, ToolOutput]:
        tool = hook_tool(call)
        runtime = self._hooks.runtime
        if tool is None or runtime is None or not any(runtime.has(e) for e in TOOL_EVENTS):
            return await dispatch(registry, call, context, limit)
        assert not isinstance(call, ToolSearchCall)  # hook_tool covers no tool_search call
        pre = await self._hooks.run_tool_event(self._state, "PreToolUse", self._turn_id, tool,
                                               call.call_id, self._emit)  # fmt: skip
        contexts = list(pre.contexts)
        self._contexts[call.call_id] = contexts
        if pre.block_reason is not None:
            text = blocked_message(tool, pre.block_reason)
            return output_item(call, text), ToolOutput(text, success=False)
        to_run: ToolCall = call
        if pre.updated_input is not None:
            changed = rewritten(call, tool, pre.updated_input)
            if changed is None:
                self._emit(ev.HookReport("PreToolUse updatedInput does not fit the tool; ignored"))
            else:
                to_run, tool = changed, replace(tool, tool_input=pre.updated_input)
        item, output, response = await self._run(registry, to_run, tool, context, limit)
        post = await self._hooks.run_tool_event(
            self._state, "PostToolUse", self._turn_id, tool, call.call_id, self._emit,
            response=response,
        )  # fmt: skip
        contexts += post.contexts
        if post.block_reason is not None:
            output = replace(output, text=post.block_reason)
            item = output_item(call, post.block_reason)
        return item, output

    async def _run(
        self,
        registry: ToolRegistry,
        call: ToolCall,
        tool: HookTool,
        context: ToolContext,
        limit: int | None,
    ) -> tuple[ResponseItem, ToolOutput, Any]:
        """Dispatch, keeping what the tool reported as its plain output (a command's output,
        a patch's summary) for PostToolUse, and the call's hook view for PermissionRequest."""
        forward = context.emit
        reported: list[str] = []

        def capture(event: ev.EngineEvent) -> None:
            if isinstance(event, ev.ExecCommandEnd):
                reported.append(event.aggregated_output)
            elif isinstance(event, ev.PatchApplyEnd):
                reported.append(event.output)
            forward(event)

        context.emit = capture
        call_id = context.call_id
        self._hooks.inflight[call_id] = (tool, self._turn_id)
        try:
            item, output = await dispatch(registry, call, context, limit)
        finally:
            self._hooks.inflight.pop(call_id, None)
        return item, output, reported[-1] if reported else output.text

    def with_contexts(self, items: Sequence[ResponseItem]) -> list[ResponseItem]:
        """The outputs to record, each after the context its hooks added."""
        recorded: list[ResponseItem] = []
        for item in items:
            call_id = getattr(item, "call_id", None)
            for text in self._contexts.get(call_id, []) if isinstance(call_id, str) else []:
                recorded.append(developer_message(text))
            recorded.append(item)
        return recorded
