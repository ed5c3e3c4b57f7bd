"""Engine events → blocks of text for the scrollback, plus the live state of the running turn.

`TranscriptRenderer.process` is pure with respect to the terminal: it returns finished blocks
(strings without a trailing newline) and updates `live` (the message or reasoning still streaming,
the commands still running) for the input line's live area. The snapshot tests feed it a fixed
event sequence at a fixed width with colour off.
"""

from __future__ import annotations

from pathlib import Path
from typing import assert_never

from rich.panel import Panel
from rich.text import Text

from pycodex._records import dataclass, field
from pycodex._version import __version__
from pycodex.frontends.collab_text import collab_lines
from pycodex.frontends.repl.markup import Painter
from pycodex.frontends.repl.tool_display import (
    command_block,
    mcp_call_block,
    patch_block,
    plan_block,
    short_command,
    tool_call_block,
    tool_call_title,
)
from pycodex.frontends.repl.usage import usage_line
from pycodex.protocol import events as ev
from pycodex.protocol.usage import TokenUsage

# Tools whose progress arrives as their own events (commands, patches, plans, searches).
# Sub-agent tools report through their own events (`multi_agent_v1.spawn_agent`, ...).
COLLAB_PREFIX = "multi_agent_v1."
MCP_PREFIX = "mcp__"
TOOLS_WITH_OWN_EVENTS = frozenset(
    {
        "exec_command",
        "write_stdin",
        "shell",
        "shell_command",
        "apply_patch",
        "update_plan",
        "request_user_input",
        "web_search",
    }
)


def _has_own_events(name: str) -> bool:
    """Tools that report through their own events (MCP tools are `mcp__<server>.<tool>`)."""
    return name in TOOLS_WITH_OWN_EVENTS or name.startswith((COLLAB_PREFIX, MCP_PREFIX))


@dataclass
class LiveTurn:
    """What the running turn is doing right now; cleared when it ends."""

    message: str = ""
    reasoning: str = ""
    # call id → what runs (a command line or a tool name), in start order.
    running: dict[str, str] = field(default_factory=dict)

    def clear(self) -> None:
        self.message, self.reasoning = "", ""
        self.running.clear()


@dataclass
class TranscriptRenderer:
    painter: Painter
    context_window: int | None = None
    total: TokenUsage = field(default_factory=TokenUsage)
    last: TokenUsage | None = None
    live: LiveTurn = field(default_factory=LiveTurn)
    # False with `hide_agent_reasoning = true`: reasoning is neither streamed nor printed.
    show_reasoning: bool = True

    def process(self, event: ev.EngineEvent) -> list[str]:
        """Blocks to print for this event (often none: deltas only update `live`)."""
        match event:
            case ev.SessionConfigured():
                return [self.header(event)]
            case ev.TurnStarted():
                self.live.clear()
                return []
            case ev.AgentMessageDelta(delta=delta):
                self.live.message += delta
                return []
            case ev.AgentMessage(text=text):
                self.live.message = ""
                return ["", self.painter.markdown(text)]
            case ev.ReasoningDelta(delta=delta):
                if self.show_reasoning:
                    self.live.reasoning += delta
                return []
            case ev.Reasoning(text=text):
                self.live.reasoning = ""
                if not self.show_reasoning:
                    return []
                return [self.painter.styled(f"thinking: {text.strip()}", "dim italic")]
            case _:
                return self._tool_event(event)

    def _tool_event(self, event: ev.EngineEvent) -> list[str]:
        painter = self.painter
        match event:
            case ev.ExecCommandBegin(call_id=call_id, command=command):
                self.live.running[call_id] = short_command(command)
                return [painter.styled(f"• Running {short_command(command)}", "bold")]
            case ev.ExecCommandEnd():
                self.live.running.pop(event.call_id, None)
                return [command_block(painter, event)]
            case ev.PatchApplyBegin(call_id=call_id):
                self.live.running[call_id] = "apply_patch"
                return []
            case ev.PatchApplyEnd():
                self.live.running.pop(event.call_id, None)
                return [patch_block(painter, event)]
            case ev.PlanUpdated():
                return [plan_block(painter, event)]
            case ev.WebSearchBegin(call_id=call_id):
                self.live.running[call_id] = "web search"
                return []
            case ev.WebSearchEnd(call_id=call_id, query=query):
                self.live.running.pop(call_id, None)
                return [painter.styled(f"• Searched the web: {query}", "bold")]
            case ev.ToolCallBegin(call_id=call_id, tool_name=name, arguments=arguments):
                if not _has_own_events(name):
                    self.live.running[call_id] = tool_call_title(name, arguments)
                return []
            case ev.ToolCallEnd(call_id=call_id, tool_name=name):
                if _has_own_events(name):
                    return []
                title = self.live.running.pop(call_id, name)
                return [tool_call_block(painter, title, event)]
            case ev.McpToolCallBegin(call_id=call_id, server=server, tool=tool):
                self.live.running[call_id] = f"{server}/{tool}"
                return []
            case ev.McpToolCallEnd(call_id=call_id):
                self.live.running.pop(call_id, None)
                return [mcp_call_block(painter, event)]
            case ev.CollabToolCallBegin():
                return []
            case ev.CollabToolCallEnd():
                return [painter.styled(f"• {line}", "bold") for line in collab_lines(event)]
            case _:
                return self._turn_event(event)

    def _turn_event(self, event: ev.EngineEvent) -> list[str]:
        painter = self.painter
        match event:
            case ev.TokenCount(total=total, last=last, model_context_window=window):
                self.total, self.last = total, last
                self.context_window = window or self.context_window
                return []
            case ev.StreamRetry():
                return [painter.styled(event.message, "dim")]
            case ev.Warning(message=message):
                return [painter.styled(f"⚠ {message}", "yellow")]
            case ev.HookReport(message=message):
                return [painter.styled(f"• hook: {message}", "dim")]
            case ev.Error(message=message):
                return [painter.styled(f"■ {message}", "bold red")]
            case ev.TurnComplete():
                self.live.clear()
                return [self.usage_block()]
            case ev.TurnAborted(reason=reason):
                stopped = len(self.live.running)
                self.live.clear()
                note = f"; {stopped} running tool call(s) stopped" if stopped else ""
                text = f"■ Turn {reason}{note}. Tell the model what to do next."
                return [painter.styled(text, "bold red"), self.usage_block()]
            case ev.CompactionStarted(tokens_before=before):
                return [painter.styled(f"• Compacting the conversation ({before} tokens)…", "dim")]
            case ev.CompactionCompleted(tokens_before=before, tokens_after=after):
                return [painter.styled(f"✓ Compacted: {before} → {after} tokens", "dim")]
            case ev.CompactionFailed(message=message):
                return [painter.styled(f"⚠ Compaction failed: {message}", "yellow")]
            case ev.ShutdownComplete():
                return []
            case (
                ev.SessionConfigured()
                | ev.TurnStarted()
                | ev.AgentMessageDelta()
                | ev.AgentMessage()
                | ev.ReasoningDelta()
                | ev.Reasoning()
                | ev.ExecCommandBegin()
                | ev.ExecCommandOutputDelta()
                | ev.ExecCommandEnd()
                | ev.PatchApplyBegin()
                | ev.PatchApplyEnd()
                | ev.PlanUpdated()
                | ev.WebSearchBegin()
                | ev.WebSearchEnd()
                | ev.ToolCallBegin()
                | ev.ToolCallEnd()
                | ev.McpToolCallBegin()
                | ev.McpToolCallEnd()
                | ev.CollabToolCallBegin()
                | ev.CollabToolCallEnd()
            ):
                return []  # handled by `process` and `_tool_event` before reaching here
            case ev.ExecApprovalRequest() | ev.PatchApprovalRequest() | ev.McpToolApprovalRequest():
                return []  # the app asks the question itself (frontends/repl/approvals.py)
            case _:
                assert_never(event)

    def usage_block(self) -> str:
        return self.painter.styled(usage_line(self.total, self.last, self.context_window), "dim")

    def header(self, event: ev.SessionConfigured) -> str:
        effort = f" (reasoning {event.reasoning_effort})" if event.reasoning_effort else ""
        body = Text()
        body.append(f">_ pycodex (v{__version__})\n\n", style="bold")
        body.append(f"model:     {event.model}{effort}\n")
        body.append(f"directory: {_home_relative(event.cwd)}")
        panel = Panel.fit(body, border_style="dim")
        hint = self.painter.styled("Type a message, or /help for commands.", "dim")
        return self.painter.render(panel) + "\n" + hint

    def user_block(self, text: str, kind: str = "") -> str:
        """Echo of what the user sent: a message, a steer or a queued message."""
        label = f"{kind}: " if kind else "› "
        return "\n" + self.painter.styled(label + text, "bold cyan" if kind else "bold")


def _home_relative(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)
