"""The REPL transcript: a fixed event sequence rendered with colour off at a fixed width."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.frontends.repl import render as render_module
from pycodex.frontends.repl.markup import Painter
from pycodex.frontends.repl.render import TranscriptRenderer
from pycodex.protocol import events as ev
from pycodex.protocol.usage import TokenUsage

CWD = Path("/srv/demo")
USAGE = TokenUsage(input_tokens=40_000, cached_input_tokens=1_000, output_tokens=2_000,
                   total_tokens=42_000)  # fmt: skip

EVENTS: list[ev.EngineEvent] = [
    ev.SessionConfigured(
        thread_id="t-1", session_id="t-1", model="gpt-test", provider_id="fake", cwd=CWD,
        approval_policy="never", sandbox_mode="workspace-write", reasoning_effort="low",
        reasoning_summary=None,
    ),
    ev.TurnStarted("turn-1"),
    ev.ReasoningDelta("Look at the "),
    ev.Reasoning("Look at the tests first."),
    ev.ToolCallBegin("c1", "exec_command", '{"cmd": "pytest -q"}'),
    ev.ExecCommandBegin("c1", "/bin/bash -lc 'pytest -q'", CWD),
    ev.ExecCommandEnd("c1", "/bin/bash -lc 'pytest -q'", CWD, 1,
                      "".join(f"line {n}\n" for n in range(1, 10)), 1.25, "completed"),
    ev.ToolCallEnd("c1", "exec_command", "Process exited with code 1", True),
    ev.PatchApplyBegin("c2", (ev.FileChange("src/app.py", "update"),)),
    ev.PatchApplyEnd("c2", (ev.FileChange("src/app.py", "update"), ev.FileChange("NEW.md", "add")),
                     True, "Success."),
    ev.PlanUpdated(None, (ev.PlanStep("fix the test", "completed"),
                          ev.PlanStep("run the suite", "in_progress"))),
    ev.ToolCallBegin("c3", "read_file", '{"path": "src/app.py"}'),
    ev.ToolCallEnd("c3", "read_file", "1: import os", True),
    ev.StreamRetry(1, 5, "stream disconnected", 0.2),
    ev.AgentMessageDelta("Fixed"),
    ev.AgentMessage("Fixed **one** bug:\n\n```python\nx = 1\n```\n\n- tests pass"),
    ev.TokenCount(total=USAGE, last=USAGE),
    ev.TurnComplete("turn-1", "Fixed", usage=USAGE),
]  # fmt: skip

EXPECTED = """\
╭─────────────────────────────────────╮
│ >_ pycodex (v9.9.9)                 │
│                                     │
│ model:     gpt-test (reasoning low) │
│ directory: /srv/demo                │
╰─────────────────────────────────────╯
Type a message, or /help for commands.
thinking: Look at the tests first.
• Running pytest -q
✗ Ran pytest -q · exit 1 · 1.2s
  │ line 1
  │ line 2
  │ line 3
  │ … +4 lines
  │ line 8
  │ line 9
✓ Edited 2 files
  M src/app.py
  A NEW.md
• Updated plan
  ✔ fix the test
  ▸ run the suite
✓ Called read_file({"path": "src/app.py"})
  │ 1: import os
Reconnecting... 1/5 (stream disconnected)

Fixed one bug:


 x = 1


 • tests pass
tokens: 42.0K total · 40.0K in (+1.0K cached) · 2.0K out ·
88% context left"""


def render(events: list[ev.EngineEvent], width: int) -> str:
    renderer = TranscriptRenderer(Painter(width, colour=False), context_window=None)
    return "\n".join(block for event in events for block in renderer.process(event))


def test_fixed_event_sequence_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_module, "__version__", "9.9.9")
    assert render(EVENTS, 60) == EXPECTED


def test_narrow_terminal_wraps_without_crashing() -> None:
    long_message = ev.AgentMessage("word " * 60 + "\n\n```\n" + "x" * 120 + "\n```")
    text = render([*EVENTS[:-1], long_message, EVENTS[-1]], 40)
    assert all(len(line) <= 40 for line in text.splitlines()), text


def test_no_escape_sequences_without_colour() -> None:
    assert "\x1b" not in render(EVENTS, 80)


def test_colour_on_uses_escape_sequences() -> None:
    renderer = TranscriptRenderer(Painter(80, colour=True))
    assert "\x1b[" in "".join(renderer.process(ev.Error("boom")))


def test_live_state_follows_the_turn() -> None:
    renderer = TranscriptRenderer(Painter(120, colour=False))
    renderer.process(ev.AgentMessageDelta("Hel"))
    renderer.process(ev.AgentMessageDelta("lo"))
    renderer.process(ev.ExecCommandBegin("c1", "/bin/bash -lc 'sleep 5'", CWD))
    assert renderer.live.message == "Hello"
    assert renderer.live.running == {"c1": "sleep 5"}
    blocks = renderer.process(ev.TurnAborted("t", "interrupted"))
    assert blocks[0] == (
        "■ Turn interrupted; 1 running tool call(s) stopped. Tell the model what to do next."
    )
    assert renderer.live.message == "" and renderer.live.running == {}


def test_hidden_reasoning_is_neither_streamed_nor_printed() -> None:
    renderer = TranscriptRenderer(Painter(80, colour=False), show_reasoning=False)
    assert renderer.process(ev.ReasoningDelta("Look at ")) == []
    assert renderer.live.reasoning == ""
    assert renderer.process(ev.Reasoning("Look at the tests first.")) == []
    shown = TranscriptRenderer(Painter(80, colour=False))
    shown.process(ev.ReasoningDelta("Look at "))
    assert shown.live.reasoning == "Look at "
    assert shown.process(ev.Reasoning("Look at the tests first.")) == [
        "thinking: Look at the tests first."
    ]


def test_mcp_calls_are_one_line_each_with_what_came_back() -> None:
    from pycodex.frontends.repl.approvals import request_text

    renderer = TranscriptRenderer(Painter(80, colour=False))
    args = {"text": "hi"}
    blocks = []
    for event in (
        ev.ToolCallBegin("m1", "mcp__probe.echo", '{"text": "hi"}'),
        ev.McpToolCallBegin("m1", "probe", "echo", args),
        ev.McpToolCallEnd(
            "m1", "probe", "echo", args,
            {"content": [{"type": "text", "text": "echo: hi"}], "structured_content": None},
            None, True, 0.012,
        ),
        ev.ToolCallEnd("m1", "mcp__probe.echo", "Wall time: 0.0120 seconds\nOutput:", True),
        ev.McpToolCallBegin("m2", "probe", "write_note", {}),
        ev.McpToolCallEnd("m2", "probe", "write_note", {}, None, "refused", False, 0.001),
    ):  # fmt: skip
        blocks += renderer.process(event)
    assert blocks == [
        '✓ Called probe/echo({"text": "hi"}) · 12ms\n  │ echo: hi',
        "✗ Called probe/write_note({}) · 1ms\n  │ refused",
    ]
    asked = request_text(ev.McpToolApprovalRequest("m3", "probe", "write_note", {"note": "x"}))
    assert asked.splitlines()[:2] == [
        "? Call the MCP tool probe/write_note",
        '  with {"note": "x"}',
    ]
    assert "[s] always for this tool" in asked and "[a]" not in asked
