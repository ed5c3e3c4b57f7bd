"""pycodex's chat template for the local model, rendered as llama.cpp and Hugging Face render chat
templates (Jinja with trim_blocks and lstrip_blocks). That llama.cpp parses the calls the model
writes in this shape is checked against the real server by the realmodel tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import pytest

from pycodex.local.manifest import load_manifest

TEMPLATE = (
    Path(load_manifest.__code__.co_filename).with_name("templates")
    / load_manifest({}).model.chat_template
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "shell_command",
            "description": "Run a command line.",
            "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
        },
    }
]


def render(messages: list[dict[str, Any]], tools: list[Any] | None = TOOLS) -> str:
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env.from_string(TEMPLATE.read_text()).render(
        messages=messages, tools=tools, add_generation_prompt=True
    )


def call(command: str) -> dict[str, Any]:
    arguments = json.dumps({"command": command})
    function = {"name": "shell_command", "arguments": arguments}
    return {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "function": function}]}


def conversation(task: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "Base instructions."},
        {"role": "system", "content": "<permissions>read-only</permissions>"},
        {"role": "user", "content": "<environment_context>cwd</environment_context>"},
        {"role": "user", "content": task},
    ]


def test_calls_are_fenced_json_blocks_and_results_name_the_task() -> None:
    messages = [
        *conversation("Count the .txt files."),
        call("ls *.txt | wc -l"),
        {"role": "tool", "tool_call_id": "c", "content": "4"},
    ]
    text = render(messages)
    call_block = '<|im_start|>assistant\n```json\n{"name": "shell_command", "arguments": {"command": "ls *.txt | wc -l"}}\n```<|im_end|>\n'
    assert text.count(call_block) == 1
    result = (
        "<|im_start|>user\n<tool_response>\n4\n</tool_response>\n"
        "That command has run; do not run it again. The task: Count the .txt files.\n"
    )
    assert result in text
    assert text.endswith("<|im_end|>\n<|im_start|>assistant\n")


def test_after_writing_a_file_the_note_asks_for_a_check() -> None:
    messages = [
        *conversation("Create hi.py and run it."),
        call("cat > hi.py <<'EOF'\nprint(1)\nEOF"),
        {"role": "tool", "tool_call_id": "c", "content": ""},
    ]
    assert render(messages).endswith(
        "The file is written. The task: Create hi.py and run it.\n"
        "Now check your work: run the program, or run the tests.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_every_prompt_starts_the_same_way_up_to_the_conversation() -> None:
    one, two = render(conversation("first task")), render(conversation("another task"))
    shared = len(one) - len(one.split("<environment_context>")[1]) - len("<environment_context>")
    assert one[:shared] == two[:shared]
    assert one.startswith("<|im_start|>system\n# Functions\n")
    functions_end = one.index("Base instructions.")
    assert json.dumps(TOOLS[0]) in one[:functions_end]  # tools first, then the instructions
    assert "Base instructions.\n\n<permissions>read-only</permissions><|im_end|>" in one


@pytest.mark.parametrize("tools", [None, []])
def test_without_tools_there_are_no_function_notes_or_examples(tools: list[Any] | None) -> None:
    text = render([{"role": "user", "content": "hi"}], tools)
    assert text == (
        "<|im_start|>system\nYou are a helpful coding assistant.<|im_end|>\n"
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_a_call_that_repeats_an_earlier_result_is_pointed_out() -> None:
    def tested(output: str) -> list[dict[str, Any]]:
        return [
            call("python3 -m pytest -q"),
            {"role": "tool", "tool_call_id": "c", "content": output},
        ]

    again = render([*conversation("Fix it."), *tested("1 failed"), *tested("1 failed")])
    assert again.endswith(
        "This exact command gave this exact result before: repeating it changes nothing. "
        "The task: Fix it.\nRead the outputs above and try something different.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    changed = render([*conversation("Fix it."), *tested("1 failed"), *tested("1 passed")])
    assert "repeating it changes nothing" not in changed  # a re-run after a fix is progress
