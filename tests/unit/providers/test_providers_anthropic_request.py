"""Responses request body → Anthropic Messages request body."""

from __future__ import annotations

from typing import Any

import pytest

from pycodex.providers.anthropic import (
    MessagesRequest,
    anthropic_headers,
    responses_to_messages_request,
)
from pycodex.providers.anthropic_stream import REDACTED_THINKING_PREFIX
from pycodex.providers.common import custom_tool_description, custom_tool_parameters

PATCH_TOOL = {"type": "custom", "name": "apply_patch", "description": "Edit files."}
EXEC_TOOL = {
    "type": "function",
    "name": "exec_command",
    "description": "Run a command.",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}


def text_message(role: str, text: str) -> dict[str, Any]:
    part = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": part, "text": text}]}


def thinking_item(text: str, signature: str) -> dict[str, Any]:
    return {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": text}],
        "encrypted_content": signature,
    }


def codex_body() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "instructions": "You are a coding agent.",
        "input": [
            text_message("developer", "<permissions>"),
            text_message("user", "<environment_context/>"),
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": "data:image/png;base64,QUJD"},
                    {"type": "input_image", "image_url": "https://example.com/a.png"},
                    {"type": "input_text", "text": "fix it"},
                ],
            },
            thinking_item("look first", "sig-1"),
            text_message("assistant", "Looking."),
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "exec_command",
                "arguments": '{"cmd":"ls"}',
            },
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** P"},
            {"type": "function_call_output", "call_id": "c1", "output": "a.py"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "Done"},
            {"type": "web_search_call", "id": "ws_1"},
        ],
        "tools": [EXEC_TOOL, PATCH_TOOL, {"type": "web_search"}],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"effort": "medium"},
        "store": False,
        "stream": True,
    }


def test_codex_request() -> None:
    assert responses_to_messages_request(codex_body()) == MessagesRequest(
        body={
            "model": "claude-sonnet-4-5",
            "max_tokens": 32000,
            "system": "You are a coding agent.\n\n<permissions>",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "<environment_context/>"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"},
                        },
                        {
                            "type": "image",
                            "source": {"type": "url", "url": "https://example.com/a.png"},
                        },
                        {"type": "text", "text": "fix it"},
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "look first", "signature": "sig-1"},
                        {"type": "text", "text": "Looking."},
                        {
                            "type": "tool_use",
                            "id": "c1",
                            "name": "exec_command",
                            "input": {"cmd": "ls"},
                        },
                        {
                            "type": "tool_use",
                            "id": "c2",
                            "name": "apply_patch",
                            "input": {"input": "*** P"},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "c1", "content": "a.py"},
                        {"type": "tool_result", "tool_use_id": "c2", "content": "Done"},
                    ],
                },
            ],
            "tools": [
                {
                    "name": "exec_command",
                    "description": "Run a command.",
                    "input_schema": {"type": "object", "properties": {"cmd": {"type": "string"}}},
                },
                {
                    "name": "apply_patch",
                    "description": custom_tool_description(PATCH_TOOL),
                    "input_schema": custom_tool_parameters(),
                },
            ],
            "tool_choice": {"type": "auto"},
            "thinking": {"type": "enabled", "budget_tokens": 8192},
            "stream": True,
        },
        warnings=(
            "tool of type 'web_search' is hosted by the Responses API and cannot run behind the "
            "Anthropic Messages downstream; it was not advertised to the model",
            "input item of type 'web_search_call' has no Anthropic Messages equivalent and was "
            "dropped",
        ),
        custom_tool_names=frozenset({"apply_patch"}),
    )


@pytest.mark.parametrize(
    ("effort", "max_output_tokens", "thinking"),
    [
        ("low", None, {"type": "enabled", "budget_tokens": 2048}),
        ("high", None, {"type": "enabled", "budget_tokens": 16384}),
        ("xhigh", None, {"type": "enabled", "budget_tokens": 24576}),
        ("high", 4000, {"type": "enabled", "budget_tokens": 3999}),
        ("high", 1000, None),
        ("minimal", None, None),
        ("none", None, None),
        (None, None, None),
    ],
)
def test_effort_to_thinking_budget(
    effort: str | None, max_output_tokens: int | None, thinking: dict[str, Any] | None
) -> None:
    body: dict[str, Any] = {"model": "m", "input": "hi"}
    if effort is not None:
        body["reasoning"] = {"effort": effort}
    if max_output_tokens is not None:
        body["max_output_tokens"] = max_output_tokens
    out = responses_to_messages_request(body).body
    assert out.get("thinking") == thinking
    assert out["max_tokens"] == (max_output_tokens or 32000)


def test_thinking_off_with_a_forced_tool_choice_and_sampling_dropped_with_thinking() -> None:
    forced = {
        "model": "m",
        "input": "hi",
        "tools": [EXEC_TOOL],
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "high"},
        "temperature": 0.5,
    }
    request = responses_to_messages_request(forced)
    assert "thinking" not in request.body
    assert request.body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert request.body["temperature"] == 0.5
    assert request.warnings == (
        "thinking is off: Anthropic does not allow it with a forced tool choice",
    )
    sampled = {"model": "m", "input": "hi", "reasoning": {"effort": "low"}, "top_p": 0.9}
    request = responses_to_messages_request(sampled)
    assert "top_p" not in request.body
    assert request.warnings == ("top_p was not sent: Anthropic rejects it with thinking on",)


def test_thinking_turned_off_when_the_tool_loop_has_no_thinking_to_replay() -> None:
    body = {
        "model": "m",
        "input": [
            text_message("user", "go"),
            # Reasoning from an OpenAI model: a summary and its own encrypted blob, no content.
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "s"}],
                "encrypted_content": "gAAAA",
            },
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "not json"},
            {"type": "function_call_output", "call_id": "c1", "output": "x"},
        ],
        "reasoning": {"effort": "low"},
    }
    request = responses_to_messages_request(body)
    assert "thinking" not in request.body
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "go"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "f", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "x"}]},
    ]  # fmt: skip
    assert request.warnings == (
        "tool call arguments that are not a JSON object were replayed as {}",
        "thinking was turned off for this request: the last assistant turn has no thinking "
        "block to replay (history from another model)",
    )


def test_thinking_blocks_are_not_replayed_when_thinking_is_off() -> None:
    body = {
        "model": "m",
        "input": [thinking_item("t", "sig"), text_message("assistant", "ok")],
    }
    assert responses_to_messages_request(body).body["messages"] == [
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]}
    ]


def test_redacted_thinking_is_replayed_as_such() -> None:
    redacted = {
        "type": "reasoning",
        "summary": [],
        "content": [],
        "encrypted_content": REDACTED_THINKING_PREFIX + "opaque",
    }
    body = {
        "model": "m",
        "input": [text_message("user", "go"), redacted, text_message("assistant", "ok")],
        "reasoning": {"effort": "low"},
    }
    assert responses_to_messages_request(body).body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "ok"},
        ],
    }


def test_tool_results_come_first_in_a_merged_user_turn() -> None:
    body = {
        "model": "m",
        "input": [
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            text_message("user", "also this"),
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [
                    {"type": "input_text", "text": "seen"},
                    {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/"},
                ],
            },
        ],
    }
    assert responses_to_messages_request(body).body["messages"][1] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "c1",
                "content": [
                    {"type": "text", "text": "seen"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/"},
                    },
                ],
            },
            {"type": "text", "text": "also this"},
        ],
    }


def test_output_schema_becomes_a_system_instruction() -> None:
    schema = {"type": "object"}
    body = {
        "model": "m",
        "instructions": "Be brief.",
        "input": "hi",
        "max_output_tokens": 500,
        "text": {"format": {"type": "json_schema", "name": "s", "schema": schema, "strict": True}},
    }
    request = responses_to_messages_request(body)
    assert request.body == {
        "model": "m",
        "max_tokens": 500,
        "system": "Be brief.\n\nAnswer with a single JSON value that matches this JSON schema:\n"
        '{"type": "object"}',
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "stream": True,
    }
    assert request.warnings == ("text.format is sent as a system instruction, not enforced",)


@pytest.mark.parametrize(
    ("tool_choice", "parallel", "expected"),
    [
        ("auto", True, {"type": "auto"}),
        ("none", True, {"type": "none"}),
        ({"type": "function", "name": "f"}, True, {"type": "tool", "name": "f"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
def test_tool_choice(tool_choice: Any, parallel: bool, expected: dict[str, Any]) -> None:
    body = {
        "model": "m",
        "input": "hi",
        "tools": [EXEC_TOOL],
        "tool_choice": tool_choice,
        "parallel_tool_calls": parallel,
    }
    assert responses_to_messages_request(body).body["tool_choice"] == expected


def test_headers() -> None:
    assert anthropic_headers("sk-ant") == {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
