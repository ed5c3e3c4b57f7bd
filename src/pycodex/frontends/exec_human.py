"""Engine events → the human-readable `exec` output.

Progress goes to stderr in the shape upstream `codex exec` prints (harnesses parse it); the final
agent message alone goes to stdout, printed by the caller once the turn has ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from pycodex._records import dataclass, field
from pycodex._version import __version__
from pycodex.frontends.collab_text import collab_lines
from pycodex.protocol import events as ev
from pycodex.protocol.events import EngineEvent

MAX_OUTPUT_LINES = 20


@dataclass(frozen=True, slots=True)
class Styles:
    enabled: bool

    def wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self.wrap("1", text)

    def dim(self, text: str) -> str:
        return self.wrap("2", text)

    def green(self, text: str) -> str:
        return self.wrap("32", text)

    def red(self, text: str) -> str:
        return self.wrap("31", text)

    def magenta(self, text: str) -> str:
        return self.wrap("35", text)


@dataclass
class ExecHumanPrinter:
    err: TextIO
    styles: Styles
    total_tokens: int = 0
    # False with `hide_agent_reasoning = true`: reasoning summaries are not printed.
    show_reasoning: bool = True
    _commands: dict[str, ev.ExecCommandBegin] = field(default_factory=dict)
    _err_closed: bool = False

    def header(self, config_lines: Sequence[tuple[str, str]], prompt: str) -> None:
        self._line(f"pycodex {__version__}")
        self._line("--------")
        for key, value in config_lines:
            self._line(f"{self.styles.bold(key)}: {value}")
        self._line("--------")
        self._line(self.styles.bold(self.styles.magenta("user")))
        self._line(prompt)

    def process(self, event: EngineEvent) -> None:
        match event:
            case ev.AgentMessage(text=text):
                self._line(self.styles.bold(self.styles.magenta("codex")))
                self._line(text)
            case ev.Reasoning(text=text) if self.show_reasoning:
                self._line(self.styles.dim(text))  # upstream prints the summary without a label
            case ev.ExecCommandBegin():
                self._commands[event.call_id] = event
                self._line(self.styles.bold(self.styles.magenta("exec")))
                self._line(self.styles.bold(f"{event.command} in {event.cwd}"))
            case ev.ExecCommandEnd():
                self._command_end(event)
            case ev.PatchApplyEnd():
                self._patch_end(event)
            case ev.PlanUpdated(steps=steps):
                self._line(self.styles.bold(self.styles.magenta("plan")))
                for step in steps:
                    self._line(f"{_PLAN_MARK[step.status]} {step.step}")
            case ev.CollabToolCallEnd():
                title = "collab" if event.success else "collab failed"
                self._line(self.styles.bold(self.styles.magenta(title)))
                for line in collab_lines(event):
                    self._line(line)
            case ev.McpToolCallBegin(server=server, tool=tool):
                self._line(self.styles.bold(f"mcp: {server}/{tool} started"))
            case ev.McpToolCallEnd(server=server, tool=tool, success=success):
                status = "completed" if success else "failed"
                self._line(self.styles.bold(f"mcp: {server}/{tool} ({status})"))
            case ev.WebSearchEnd(query=query):
                self._line(f"{self.styles.bold('web search')}: {query}")
            case ev.TokenCount(total=total):
                self.total_tokens = total.total_tokens
            case ev.CompactionCompleted():
                self._line(self.styles.dim(_compaction_line(event)))
            case ev.CompactionFailed(message=message):
                self._line(self.styles.red(f"warning: context compaction failed: {message}"))
            case ev.ExecApprovalRequest() | ev.PatchApprovalRequest() | ev.McpToolApprovalRequest():
                self._line(self.styles.red("approval needed, but exec cannot ask: denied"))
            case ev.StreamRetry():
                self._line(self.styles.dim(event.message))
            case ev.Warning(message=message):
                self._line(self.styles.red(f"warning: {message}"))
            case ev.HookReport(message=message):
                self._line(self.styles.dim(f"hook: {message}"))
            case ev.Error(message=message):
                self._line(self.styles.red(f"ERROR: {message}"))
            case ev.TurnComplete():
                self._line(self.styles.bold(self.styles.magenta("tokens used")))
                self._line(f"{self.total_tokens:,}".replace(",", ""))
            case ev.TurnAborted(reason=reason):
                self._line(self.styles.red(f"ERROR: turn {reason}"))
            case _:
                pass

    def _command_end(self, event: ev.ExecCommandEnd) -> None:
        millis = round(event.duration_s * 1000)
        if event.status == "declined":
            summary = self.styles.red(" declined")
        elif event.exit_code == 0:
            summary = self.styles.green(f" succeeded in {millis}ms:")
        elif event.exit_code is None:
            summary = self.styles.red(f" failed in {millis}ms:")
        else:
            summary = self.styles.red(f" exited {event.exit_code} in {millis}ms:")
        self._line(summary)
        lines = event.aggregated_output.splitlines()
        shown = lines[:MAX_OUTPUT_LINES]
        if shown:
            self._line(self.styles.dim("\n".join(shown)))
        if len(lines) > MAX_OUTPUT_LINES:
            self._line(self.styles.dim(f"... ({len(lines) - MAX_OUTPUT_LINES} more lines)"))

    def _patch_end(self, event: ev.PatchApplyEnd) -> None:
        """`apply patch`, its status, then each file's absolute path and git-style diff."""
        self._line(self.styles.bold(self.styles.magenta("apply patch")))
        if not event.success:
            self._line(self.styles.red("patch: failed"))
            if event.output:
                self._line(self.styles.dim(event.output.rstrip("\n")))
            return
        self._line(self.styles.green("patch: completed"))
        for change in event.changes:
            self._line(self.styles.bold(change.path))
            for line in change.unified_diff.splitlines():
                self._line(self._diff_line(line))

    def _diff_line(self, line: str) -> str:
        if line.startswith(("+++", "---")):
            return line
        if line.startswith("+"):
            return self.styles.green(line)
        if line.startswith("-"):
            return self.styles.red(line)
        return line

    def _line(self, text: str) -> None:
        if self._err_closed:
            return
        try:
            self.err.write(text + "\n")
            self.err.flush()
        except (OSError, ValueError):
            # stderr is progress for a person; its reader going away must not stop the run.
            self._err_closed = True


def _compaction_line(event: ev.CompactionCompleted) -> str:
    line = (
        f"context compacted ({event.phase}): ~{event.tokens_before} -> ~{event.tokens_after} "
        f"tokens, {event.items_kept} items kept"
    )
    return line + (f", {event.items_pruned} tool calls pruned" if event.items_pruned else "")


_PLAN_MARK = {"pending": "[ ]", "in_progress": "[~]", "completed": "[x]"}
