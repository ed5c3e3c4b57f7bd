"""Responses request body → Chat Completions request body, per provider kind."""

from __future__ import annotations

from typing import Any

import pytest

from pycodex.providers.chat import ChatRequest, responses_to_chat_request
from pycodex.providers.common import custom_tool_description
from pycodex.providers.kinds import PROVIDER_KINDS, provider_kind

GRAMMAR = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\n'
PATCH_TOOL = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Edit files.",
    "format": {"type": "grammar", "syntax": "lark", "definition": "  " + GRAMMAR + "\n\n"},
}
EXEC_TOOL = {
    "type": "function",
    "name": "exec_command",
    "description": "Run a command.",
    "strict": False,
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def codex_body() -> dict[str, Any]:
    """A second request of a Codex-style thread: every kind of item it can carry."""
    return {
        "model": "qwen3",
        "instructions": "You are a coding agent.",
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "<permissions>"}],
            },
            user("<environment_context/>"),
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": "data:image/png;base64,AAA"},
                    {"type": "input_text", "text": "fix it"},
                ],
            },
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "look first"}],
            },
            {
                "type": "message",
                "role": "assistant",
                "id": "msg_1",
                "content": [{"type": "output_text", "text": "Looking.", "annotations": []}],
            },
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "exec_command",
                "arguments": '{"cmd":"ls"}',
            },
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** P"},
            {"type": "function_call_output", "call_id": "c1", "output": "a.py"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "Done"},
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
            user("thanks"),
        ],
        "tools": [EXEC_TOOL, PATCH_TOOL, {"type": "web_search"}],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"effort": "high", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "thread-1",
        "max_output_tokens": 1000,
        "text": {
            "format": {"type": "json_schema", "name": "out", "schema": SCHEMA, "strict": True}
        },
    }


def expected_messages(developer_role: str, reasoning_field: str | None) -> list[dict[str, Any]]:
    assistant: dict[str, Any] = {"role": "assistant", "content": "Looking."}
    if reasoning_field is not None:
        assistant[reasoning_field] = "look first"
    assistant["tool_calls"] = [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "exec_command", "arguments": '{"cmd":"ls"}'},
        },
        {
            "id": "c2",
            "type": "function",
            "function": {"name": "apply_patch", "arguments": '{"input": "*** P"}'},
        },
    ]
    leading: list[dict[str, Any]] = (
        [{"role": "system", "content": "You are a coding agent.\n\n<permissions>"}]
        if developer_role == "system"
        else [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "developer", "content": "<permissions>"},
        ]
    )
    return [
        *leading,
        {"role": "user", "content": "<environment_context/>"},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}},
                {"type": "text", "text": "fix it"},
            ],
        },
        assistant,
        {"role": "tool", "tool_call_id": "c1", "content": "a.py"},
        {"role": "tool", "tool_call_id": "c2", "content": "Done"},
        {"role": "user", "content": "thanks"},
    ]


EXPECTED_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "exec_command",
            "description": "Run a command.",
            "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
            "strict": False,
        },
    },
    {
        "type": "function",
        "function": {
            "name": "apply_patch",
            "description": custom_tool_description(PATCH_TOOL),
            "parameters": {
                "type": "object",
                "properties": {
                    "input": {"type": "string", "description": "The raw text for the tool."}
                },
                "required": ["input"],
                "additionalProperties": False,
            },
        },
    },
]
HOSTED_WARNING = (
    "tool of type 'web_search' is hosted by the Responses API and cannot run behind the Chat "
    "Completions downstream; it was not advertised to the model"
)
DROPPED_WARNING = (
    "input item of type 'web_search_call' has no Chat Completions equivalent and was dropped"
)


@pytest.mark.parametrize(
    ("kind", "developer_role", "reasoning_field", "max_field"),
    [
        ("generic", "system", None, "max_tokens"),
        ("vllm", "system", "reasoning_content", "max_tokens"),
        ("llamacpp", "system", "reasoning_content", "max_tokens"),
        ("ollama", "system", "reasoning", "max_tokens"),
        ("openai", "developer", None, "max_completion_tokens"),
    ],
)
def test_codex_request_per_provider_kind(
    kind: str, developer_role: str, reasoning_field: str | None, max_field: str
) -> None:
    assert responses_to_chat_request(codex_body(), kind=kind) == ChatRequest(
        body={
            "model": "qwen3",
            "messages": expected_messages(developer_role, reasoning_field),
            "tools": EXPECTED_TOOLS,
            "tool_choice": "auto",
            "parallel_tool_calls": True,
            "reasoning_effort": "high",
            max_field: 1000,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "out", "schema": SCHEMA, "strict": True},
            },
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        warnings=(HOSTED_WARNING, DROPPED_WARNING),
        custom_tool_names=frozenset({"apply_patch"}),
    )


def test_custom_tool_description_keeps_the_grammar_trimmed() -> None:
    assert custom_tool_description(PATCH_TOOL) == (
        "Edit files.\n\nCall this tool with one JSON string parameter `input` holding the raw "
        "text for the tool; the text is passed on verbatim, so do not escape it beyond JSON."
        "\n\nThe text must follow this lark grammar:\n" + GRAMMAR.strip()
    )


def test_minimal_body_sends_no_tool_fields_and_easy_input_forms() -> None:
    body = {
        "model": "m",
        "input": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "temperature": 0.2,
    }
    assert responses_to_chat_request(body).body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
        "temperature": 0.2,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert responses_to_chat_request({"model": "m", "input": "hello"}).body["messages"] == [
        {"role": "user", "content": "hello"}
    ]


def test_calls_without_text_become_one_assistant_message_and_reasoning_waits_for_it() -> None:
    body = {
        "model": "m",
        "input": [
            user("go"),
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "plan"}]},
            {"type": "function_call", "call_id": "a", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "b", "name": "g", "arguments": ""},
            {"type": "function_call_output", "call_id": "a", "output": "1"},
            {
                "type": "function_call_output",
                "call_id": "b",
                "output": [{"type": "input_text", "text": "2"}, {"type": "input_image"}],
            },
        ],
    }
    request = responses_to_chat_request(body, kind="vllm")
    assert request.body["messages"] == [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "plan",
            "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "tool", "tool_call_id": "b", "content": "2"},
    ]
    assert request.warnings == ("non-text parts of a tool output were dropped",)


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ({"type": "function", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
        ({"type": "custom", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
        ({"type": "allowed_tools", "tools": []}, "auto"),
    ],
)
def test_tool_choice(tool_choice: Any, expected: Any) -> None:
    body = {"model": "m", "input": [], "tools": [EXEC_TOOL], "tool_choice": tool_choice}
    assert responses_to_chat_request(body).body["tool_choice"] == expected


def test_json_object_format() -> None:
    body = {"model": "m", "input": [], "text": {"format": {"type": "json_object"}}}
    assert responses_to_chat_request(body).body["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("llama.cpp", "llamacpp"), ("LLAMA_CPP", "llamacpp"), ("vLLM", "vllm"), (None, "generic")],
)
def test_provider_kind_lookup(name: str | None, expected: str) -> None:
    assert provider_kind(name) is PROVIDER_KINDS[expected]


def test_unknown_provider_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown provider kind 'tgi' \(known: openai, vllm"):
        provider_kind("tgi")
