"""The `multi_agent_v1` namespace: spawn_agent, send_input, wait_agent, close_agent, resume_agent.

Each tool asks the thread manager (through `AgentControl`) and answers the model with upstream's
JSON output strings; each also reports a `CollabToolCallBegin` / `CollabToolCallEnd` pair, which
`exec --json` shows as a `collab_tool_call` item.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pycodex.protocol import events as ev
from pycodex.protocol.agents import AgentStatus
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput
from pycodex.tools.collab import schemas
from pycodex.tools.collab.control import (
    AgentControl,
    AgentControlError,
    SpawnRequest,
)
from pycodex.tools.namespaces import ToolNamespace

NAMESPACE = "multi_agent_v1"
NAMESPACE_DESCRIPTION = (
    "Start sub-agents for self-contained tasks, talk to them and collect their results."
)
DEFAULT_WAIT_MS = 30_000
MIN_WAIT_MS = 10_000
MAX_WAIT_MS = 3_600_000


def multi_agent_namespace(roles: dict[str, str] | None = None) -> ToolNamespace:
    """The namespace, deferred behind tool_search where the model supports it."""
    tools: list[BaseTool[Any]] = [
        SpawnAgentTool(roles or {}),
        SendInputTool(),
        WaitAgentTool(),
        CloseAgentTool(),
        ResumeAgentTool(),
    ]
    return ToolNamespace(NAMESPACE, NAMESPACE_DESCRIPTION, tools, deferred=True)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _control(context: ToolContext) -> AgentControl:
    control = context.services.agent_control
    if control is None:
        raise ToolError("sub-agents are not available in this session")
    return control


def _message(args: dict[str, Any]) -> str:
    """The text of `message`, or of the text items when only `items` is given."""
    message = args.get("message")
    if isinstance(message, str) and message:
        return message
    texts = [
        item.get("text") or item.get("path") or ""
        for item in args.get("items") or []
        if isinstance(item, dict)
    ]
    return "\n".join(text for text in texts if text)


class _CollabTool(BaseTool[dict[str, Any]]):
    reported_as: ClassVar[ev.CollabTool]

    def begin(self, context: ToolContext, receivers: tuple[str, ...], prompt: str | None) -> None:
        sender = _control(context).thread_id
        context.emit(
            ev.CollabToolCallBegin(context.call_id, self.reported_as, sender, receivers, prompt)
        )

    def end(
        self,
        context: ToolContext,
        receivers: tuple[str, ...],
        prompt: str | None,
        states: dict[str, AgentStatus],
        success: bool,
        **extra: Any,
    ) -> None:
        control = _control(context)
        context.emit(
            ev.CollabToolCallEnd(
                call_id=context.call_id,
                tool=self.reported_as,
                sender_thread_id=control.thread_id,
                receiver_thread_ids=receivers,
                prompt=prompt,
                agents_states=tuple(states.items()),
                success=success,
                receiver_nicknames=tuple((agent, control.nickname(agent)) for agent in receivers),
                **extra,
            )
        )


class SpawnAgentTool(_CollabTool):
    name = "spawn_agent"
    description = (
        "Start a sub-agent on a well-scoped task and return its id and nickname. The agent runs "
        "alongside you with your tools, sandbox and model (unless you pick another). Only spawn "
        "agents when the user, AGENTS.md or a skill asks for sub-agents, delegation or parallel "
        "work; thoroughness alone is no reason. Give each agent a concrete, self-contained task "
        "that does not block your own next step, keep write sets of coding agents disjoint, and "
        "keep working while they run: wait_agent only when you need a result."
    )
    reported_as = "spawn_agent"

    def __init__(self, roles: dict[str, str]) -> None:
        self.input_schema = schemas.spawn_agent_schema(roles)  # type: ignore[misc]

    async def run(self, context: ToolContext, args: dict[str, Any]) -> ToolOutput:
        control = _control(context)
        message = _message(args)
        self.begin(context, (), message or None)
        request = SpawnRequest(
            message=message,
            fork_context=bool(args.get("fork_context")),
            model=args.get("model") or None,
            reasoning_effort=args.get("reasoning_effort") or None,
            agent_type=args.get("agent_type") or None,
        )
        try:
            if not message and not request.fork_context:
                raise AgentControlError("spawn_agent needs a message (or items) for the new agent")
            spawned = await control.spawn(request, context.turn_id)
        except AgentControlError as err:
            self.end(context, (), message or None, {}, success=False)
            return ToolOutput(str(err), success=False)
        self.end(
            context,
            (spawned.agent_id,),
            message or None,
            {spawned.agent_id: AgentStatus("pending_init")},
            success=True,
            model=spawned.model,
            reasoning_effort=spawned.reasoning_effort,
        )
        return ToolOutput(_json({"agent_id": spawned.agent_id, "nickname": spawned.nickname}))


class SendInputTool(_CollabTool):
    name = "send_input"
    description = (
        "Send a message to one of your sub-agents; it works on it after its current task, or at "
        "once with interrupt=true. Reuse an agent this way when the new task builds on what it "
        "already did."
    )
    reported_as = "send_input"
    input_schema = schemas.SEND_INPUT_SCHEMA

    async def run(self, context: ToolContext, args: dict[str, Any]) -> ToolOutput:
        control = _control(context)
        target = str(args["target"])
        message = _message(args)
        self.begin(context, (target,), message or None)
        try:
            if not message:
                raise AgentControlError("send_input needs a message (or items)")
            submission, before = await control.send_input(
                target, message, bool(args.get("interrupt")), context.turn_id
            )
        except AgentControlError as err:
            self.end(context, (target,), message or None, {}, success=False)
            return ToolOutput(str(err), success=False)
        self.end(context, (target,), message, {target: before}, success=True)
        return ToolOutput(_json({"submission_id": submission}))


class WaitAgentTool(_CollabTool):
    name = "wait_agent"
    description = (
        "Wait until at least one of the given sub-agents reaches a final status, and report the "
        "status of every target that has (a completed agent's final message included). An empty "
        "status with timed_out=true means none finished in time. A notification with the same "
        "status also reaches you when an agent finishes."
    )
    reported_as = "wait"
    input_schema = schemas.WAIT_AGENT_SCHEMA
    read_only = True

    async def run(self, context: ToolContext, args: dict[str, Any]) -> ToolOutput:
        control = _control(context)
        targets = [str(target) for target in args["targets"]]
        timeout = args.get("timeout_ms")
        millis = DEFAULT_WAIT_MS if not isinstance(timeout, int | float) else timeout
        millis = min(max(millis, MIN_WAIT_MS), MAX_WAIT_MS)
        receivers = tuple(targets)
        self.begin(context, receivers, None)
        result = await control.wait(targets, millis / 1000)
        shown = () if result.timed_out else receivers
        failed = any(s.state in ("errored", "not_found") for s in result.statuses.values())
        self.end(context, shown, None, result.statuses, success=not failed)
        status = {agent: state.to_wire() for agent, state in result.statuses.items()}
        return ToolOutput(_json({"status": status, "timed_out": result.timed_out}))


class CloseAgentTool(_CollabTool):
    name = "close_agent"
    description = (
        "Shut down a sub-agent and everything it spawned, returning its status from before the "
        "shutdown. Finished agents stay open, and count against the agent limit, until closed: "
        "close the ones you no longer need."
    )
    reported_as = "close_agent"
    input_schema = schemas.CLOSE_AGENT_SCHEMA

    async def run(self, context: ToolContext, args: dict[str, Any]) -> ToolOutput:
        target = str(args["target"])
        self.begin(context, (target,), None)
        previous = await _control(context).close(target)
        self.end(
            context, (target,), None, {target: previous}, success=previous.state != "not_found"
        )
        return ToolOutput(_json({"previous_status": previous.to_wire()}))


class ResumeAgentTool(_CollabTool):
    name = "resume_agent"
    description = (
        "Reopen a sub-agent you closed, by id, so it accepts send_input and wait_agent again."
    )
    # Upstream reports a resume as a `wait` item; clients match on that.
    reported_as = "wait"
    input_schema = schemas.RESUME_AGENT_SCHEMA

    async def run(self, context: ToolContext, args: dict[str, Any]) -> ToolOutput:
        target = str(args["id"])
        self.begin(context, (target,), None)
        status = await _control(context).resume(target)
        self.end(context, (target,), None, {target: status}, success=status.state != "not_found")
        return ToolOutput(_json({"status": status.to_wire()}))
