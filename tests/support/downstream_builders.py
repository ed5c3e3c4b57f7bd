"""Scripted downstream answers for the translating clients: Chat Completions and Anthropic Messages.

Chat helpers build on `sse_builders.chat_chunk` (served with `expect_chat_stream`, which appends
`data: [DONE]`). Messages helpers return raw SSE frames for `expect_stream`, named as Anthropic
names them (`event: content_block_delta` ...), ending with `message_stop` unless told otherwise.

    server.expect_chat_stream("/v1/chat/completions", chat_text("Hi"))
    server.expect_stream("/v1/messages", messages_stream(text_block("Hi")))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from support.sse_builders import chat_chunk

Event = dict[str, Any]

CHAT_USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


# --- Chat Completions ------------------------------------------------------------------------


def chat_usage_chunk(prompt_tokens: int = 10, completion_tokens: int = 5) -> Event:
    """The last chunk `stream_options.include_usage` asks for: no choices, only usage."""
    chunk = chat_chunk(
        usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    )
    chunk["choices"] = []
    return chunk


def chat_text(text: str, *, reasoning: str | None = None) -> list[Event]:
    """An answer with one message (after some reasoning, if given), then usage."""
    chunks = [chat_chunk(role="assistant")]
    if reasoning is not None:
        chunks.append(chat_reasoning(reasoning))
    chunks += [chat_chunk(text[: len(text) // 2]), chat_chunk(text[len(text) // 2 :])]
    return [*chunks, chat_chunk(finish_reason="stop"), chat_usage_chunk()]


def chat_reasoning(text: str, field: str = "reasoning_content") -> Event:
    chunk = chat_chunk()
    chunk["choices"][0]["delta"][field] = text
    return chunk


def chat_reasoning_only(text: str = "Let me think.") -> list[Event]:
    """An answer that is reasoning and nothing else (what the reasoning-only rule is about)."""
    return [chat_chunk(role="assistant"), chat_reasoning(text), chat_chunk(finish_reason="stop")]


def chat_tool_calls(*calls: tuple[str, str, str]) -> list[Event]:
    """One answer calling tools, each `(call_id, name, arguments)`, arguments split in two."""
    chunks = [chat_chunk(role="assistant")]
    for index, (call_id, name, arguments) in enumerate(calls):
        half = len(arguments) // 2
        opening = {"index": index, "id": call_id, "type": "function"}
        opening["function"] = {"name": name, "arguments": arguments[:half]}
        rest = {"index": index, "function": {"arguments": arguments[half:]}}
        chunks += [chat_chunk(tool_calls=[opening]), chat_chunk(tool_calls=[rest])]
    return [*chunks, chat_chunk(finish_reason="tool_calls"), chat_usage_chunk()]


# --- Anthropic Messages ----------------------------------------------------------------------


def frame(event: Event) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def text_block(text: str) -> list[Event]:
    """A text block's events (without its index: `messages_stream` numbers the blocks)."""
    return [
        {"type": "content_block_start", "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": text}},
        {"type": "content_block_stop"},
    ]


def thinking_block(text: str, signature: str = "sig-1") -> list[Event]:
    start = {"type": "thinking", "thinking": "", "signature": ""}
    return [
        {"type": "content_block_start", "content_block": start},
        {"type": "content_block_delta", "delta": {"type": "thinking_delta", "thinking": text}},
        {
            "type": "content_block_delta",
            "delta": {"type": "signature_delta", "signature": signature},
        },
        {"type": "content_block_stop"},
    ]


def tool_use_block(call_id: str, name: str, arguments: dict[str, Any]) -> list[Event]:
    text = json.dumps(arguments)
    half = len(text) // 2
    start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
    return [
        {"type": "content_block_start", "content_block": start},
        *(
            {
                "type": "content_block_delta",
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
            for piece in (text[:half], text[half:])
        ),
        {"type": "content_block_stop"},
    ]


def messages_stream(
    *blocks: Sequence[Event],
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int = 5,
    stop: bool = True,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> list[bytes]:
    """A whole Messages answer: message_start, the numbered blocks, message_delta, message_stop."""
    usage = {
        "input_tokens": input_tokens,
        "cache_read_input_tokens": cache_read_tokens,
        "cache_creation_input_tokens": cache_write_tokens,
        "output_tokens": 1,
    }
    message = {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "usage": usage}
    events: list[Event] = [{"type": "message_start", "message": message}, {"type": "ping"}]
    for index, block in enumerate(blocks):
        events += [{**event, "index": index} for event in block]
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    events.append(
        {"type": "message_delta", "delta": delta, "usage": {"output_tokens": output_tokens}}
    )
    if stop:
        events.append({"type": "message_stop"})
    return [frame(event) for event in events]
