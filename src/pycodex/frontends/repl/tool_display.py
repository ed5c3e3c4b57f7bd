"""How finished tool calls look: commands with exit code, duration and a few output lines; patch
file lists; plans; other tools with their arguments."""

from __future__ import annotations

import json
import shlex

from pycodex.frontends.repl.markup import Painter
from pycodex.protocol import events as ev

HEAD_LINES = 3
TAIL_LINES = 2
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "fish"})
_KIND_LETTER = {"add": "A", "delete": "D", "update": "M"}
_PLAN_MARK = {"pending": "□", "in_progress": "▸", "completed": "✔"}


def short_command(command: str) -> str:
    """`/bin/bash -lc 'ls -la'` → `ls -la`: the shell wrapper is the same on every call."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return command
    if len(argv) == 3 and argv[0].rsplit("/", 1)[-1] in _SHELLS and argv[1] in ("-lc", "-c"):
        return argv[2]
    return command


def duration_text(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def output_excerpt(output: str, width: int) -> list[str]:
    """The first and last few lines of `output`, each cut to fit on one terminal line."""
    lines = output.rstrip("\n").splitlines()
    if len(lines) > HEAD_LINES + TAIL_LINES + 1:
        hidden = len(lines) - HEAD_LINES - TAIL_LINES
        lines = [*lines[:HEAD_LINES], f"… +{hidden} lines", *lines[-TAIL_LINES:]]
    room = max(width - 4, 10)
    return [line if len(line) <= room else line[: room - 1] + "…" for line in lines]


def _with_output(painter: Painter, title: str, style: str, output: str) -> str:
    parts = [painter.styled(title, style)]
    excerpt = output_excerpt(output, painter.width)
    if excerpt:
        parts.append(painter.styled("\n".join(f"  │ {line}" for line in excerpt), "dim"))
    return "\n".join(parts)


def command_block(painter: Painter, event: ev.ExecCommandEnd) -> str:
    command = short_command(event.command)
    took = duration_text(event.duration_s)
    if event.status == "declined":
        return painter.styled(f"✗ Declined {command}", "bold red")
    if event.exit_code == 0:
        return _with_output(
            painter, f"✓ Ran {command} · exit 0 · {took}", "bold green", event.aggregated_output
        )
    code = "no exit code" if event.exit_code is None else f"exit {event.exit_code}"
    return _with_output(
        painter, f"✗ Ran {command} · {code} · {took}", "bold red", event.aggregated_output
    )


def patch_block(painter: Painter, event: ev.PatchApplyEnd) -> str:
    count = len(event.changes)
    noun = "file" if count == 1 else "files"
    files = "\n".join(f"  {_KIND_LETTER[c.kind]} {c.path}" for c in event.changes)
    if event.success:
        title = painter.styled(f"✓ Edited {count} {noun}", "bold green")
        return title + ("\n" + files if files else "")
    failed = _with_output(painter, "✗ Patch failed", "bold red", event.output)
    return failed + ("\n" + files if files else "")


def plan_block(painter: Painter, event: ev.PlanUpdated) -> str:
    lines = [painter.styled("• Updated plan", "bold")]
    if event.explanation:
        lines.append(painter.styled(f"  {event.explanation}", "dim italic"))
    for step in event.steps:
        style = "dim" if step.status == "completed" else ""
        lines.append(painter.styled(f"  {_PLAN_MARK[step.status]} {step.step}", style))
    return "\n".join(lines)


def tool_call_title(name: str, arguments: str, limit: int = 60) -> str:
    """`read_file({"path": "a.py"})`, the arguments cut short: enough to recognise the call."""
    flat = " ".join(arguments.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"{name}({flat})"


def tool_call_block(painter: Painter, title: str, event: ev.ToolCallEnd) -> str:
    mark, style = ("✓", "bold green") if event.success else ("✗", "bold red")
    return _with_output(painter, f"{mark} Called {title}", style, event.output)


def mcp_call_block(painter: Painter, event: ev.McpToolCallEnd) -> str:
    """`✓ Called probe/echo({"text": "hi"}) · 12ms` and the first lines of what came back."""
    mark, style = ("✓", "bold green") if event.success else ("✗", "bold red")
    title = tool_call_title(f"{event.server}/{event.tool}", _json(event.arguments))
    took = duration_text(event.duration_s)
    return _with_output(painter, f"{mark} Called {title} · {took}", style, _mcp_text(event))


def _mcp_text(event: ev.McpToolCallEnd) -> str:
    if event.error is not None:
        return event.error
    result = event.result or {}
    if result.get("structured_content") is not None:
        return _json(result["structured_content"])
    texts = []
    for block in result.get("content") or []:
        kind = block.get("type") if isinstance(block, dict) else None
        texts.append(str(block.get("text", "")) if kind == "text" else f"[{kind}]")
    return "\n".join(texts)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
