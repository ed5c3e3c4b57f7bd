"""Downstream HTTP and in-stream errors → Responses error codes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pycodex.providers.errors import (
    DownstreamApi,
    classify_downstream_http_error,
    classify_stream_error,
)

VLLM_CONTEXT = (
    "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens "
    "(39000 in the messages, 1000 in the completion). Please reduce the length of the messages "
    "or completion."
)
LLAMACPP_CONTEXT = {
    "error": {
        "code": 400,
        "message": "the request exceeds the available context size, try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 9000,
        "n_ctx": 8192,
    }
}
ANTHROPIC_TOO_LONG = {
    "type": "error",
    "error": {
        "type": "invalid_request_error",
        "message": "prompt is too long: 215000 tokens > 200000 maximum",
    },
}


def vllm_error(message: str, code: int) -> str:
    return json.dumps(
        {"object": "error", "message": message, "type": "BadRequestError", "code": code}
    )


@pytest.mark.parametrize(
    ("status", "body", "api", "expected"),
    [
        (400, vllm_error(VLLM_CONTEXT, 400), "chat", ("context_length_exceeded", VLLM_CONTEXT)),
        (
            400,
            json.dumps(LLAMACPP_CONTEXT),
            "chat",
            ("context_length_exceeded", LLAMACPP_CONTEXT["error"]["message"]),
        ),
        (
            400,
            json.dumps(ANTHROPIC_TOO_LONG),
            "messages",
            ("context_length_exceeded", "prompt is too long: 215000 tokens > 200000 maximum"),
        ),
        (400, vllm_error("bad tool schema", 400), "chat", ("invalid_request_error", "bad tool schema")),
        (401, '{"error": {"message": "Incorrect API key"}}', "chat", ("invalid_api_key", "Incorrect API key")),
        (403, "forbidden", "chat", ("permission_denied", "forbidden")),
        (429, '{"error": {"message": "slow down", "type": "requests"}}', "chat", ("rate_limit_exceeded", "slow down")),
        (429, '{"error": {"message": "no money", "code": "insufficient_quota"}}', "chat", ("insufficient_quota", "no money")),
        (529, '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}', "messages", ("server_is_overloaded", "Overloaded")),
        (502, "<html>bad gateway</html>", "chat", ("server_error", "<html>bad gateway</html>")),
        (404, '{"error": "model not found"}', "chat", ("invalid_request_error", "model not found")),
    ],
)  # fmt: skip
def test_http_errors(status: int, body: str, api: DownstreamApi, expected: tuple[str, str]) -> None:
    assert classify_downstream_http_error(status, body, api) == expected


def test_long_error_pages_are_trimmed() -> None:
    code, message = classify_downstream_http_error(500, "x" * 5000, "chat")
    assert (code, message) == ("server_error", "x" * 2000 + "…")


@pytest.mark.parametrize(
    ("error", "api", "expected"),
    [
        ({"type": "error", "error": {"type": "overloaded_error", "message": "O"}}, "messages", ("server_is_overloaded", "O")),
        ({"type": "error", "error": {"type": "rate_limit_error", "message": "R"}}, "messages", ("rate_limit_exceeded", "R")),
        (ANTHROPIC_TOO_LONG, "messages", ("context_length_exceeded", "prompt is too long: 215000 tokens > 200000 maximum")),
        ({"type": "error", "error": {"type": "api_error", "message": "A"}}, "messages", ("server_error", "A")),
        ({"error": {"message": "E", "type": "BadRequestError", "code": 400}}, "chat", ("invalid_request_error", "E")),
        ({"object": "error", "message": VLLM_CONTEXT, "code": 400}, "chat", ("context_length_exceeded", VLLM_CONTEXT)),
        ({"error": {"message": "mystery"}}, "chat", ("server_error", "mystery")),
    ],
)  # fmt: skip
def test_stream_errors(
    error: dict[str, Any], api: DownstreamApi, expected: tuple[str, str]
) -> None:
    assert classify_stream_error(error, api) == expected
