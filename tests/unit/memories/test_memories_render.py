"""The old conversation as stage one sees it."""

from __future__ import annotations

import json
from typing import Any

from pycodex.memories.render import OMITTED, render_conversation


def msg(role: str, text: str, kind: str = "input_text", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}], **extra}


def test_rows_are_labelled_and_instructions_dropped() -> None:
    items = [
        msg("developer", "<permissions instructions>secret policy</permissions instructions>"),
        msg("user", "# AGENTS.md instructions for /p\n\n<INSTRUCTIONS>\nrules\n</INSTRUCTIONS>"),
        msg("user", "<environment_context><cwd>/p</cwd></environment_context>"),
        msg("user", "<skill>\nname: x\n</skill>"),
        msg("user", "please fix the bug"),
        {"type": "reasoning", "summary": [], "encrypted_content": "opaque"},
        {"type": "function_call", "name": "exec_command", "arguments": "{}", "call_id": "c"},
        {"type": "function_call_output", "call_id": "c", "output": "ok"},
        msg("assistant", "working on it", "output_text", phase="commentary"),
        msg("assistant", "fixed", "output_text"),
        msg("user", "<subagent_notification>done</subagent_notification>"),
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_image", "image_url": "data:"}],
        },
    ]
    text = render_conversation(iter(items), 10_000)
    labels = [line for line in text.splitlines() if line.startswith("[")]
    assert labels == [
        "[harness context]",
        "[human user]",
        "[tool]",
        "[tool]",
        "[assistant commentary]",
        "[assistant final]",
        "[other agent]",
        "[human user]",
    ]
    assert "secret policy" not in text and "rules" not in text and "name: x" not in text
    assert "opaque" not in text and "[image omitted]" in text
    first = text.splitlines()[3]
    assert json.loads(first) == msg("user", "please fix the bug")


def test_secrets_inside_json_fields_are_redacted() -> None:
    items = [msg("user", 'config: {"password": "hunter22"} and sk-proj-abcdefghijklmnopqrstuv')]
    text = render_conversation(iter(items), 10_000)
    assert "hunter22" not in text and "sk-proj-abcdefghijklmnopqrstuv" not in text


def test_a_short_budget_keeps_what_the_user_said_first() -> None:
    items = [
        {"type": "function_call_output", "call_id": "c", "output": "x" * 4000},
        msg("user", "FIRST request"),
        {"type": "function_call_output", "call_id": "d", "output": "y" * 4000},
        msg("assistant", "FINAL answer", "output_text"),
    ]
    text = render_conversation(iter(items), 120)
    assert "FIRST request" in text and "FINAL answer" in text
    assert "xxxx" not in text and "yyyy" not in text
    assert text.startswith(OMITTED) and text.count(OMITTED) == 2


def test_long_tool_outputs_are_cut_in_the_middle() -> None:
    output = "head\n" + "z" * 50_000 + "\ntail"
    items = [{"type": "function_call_output", "call_id": "c", "output": output}]
    text = render_conversation(iter(items), 100_000)
    assert len(text) < 10_000 and "tokens truncated" in text
