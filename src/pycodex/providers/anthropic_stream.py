"""Anthropic Messages stream → Responses streaming events (see `stream_writer`), event by event.

Messages stream facts relied on: `message_start` carries the input usage (`input_tokens`,
`cache_read_input_tokens`, `cache_creation_input_tokens`); each content block is bracketed by
`content_block_start` / `content_block_stop` under its `index`, with `content_block_delta` pieces
in between (`text_delta`, `thinking_delta`, `signature_delta`, `input_json_delta`);
`message_delta` carries `stop_reason` and the output usage; `message_stop` ends the stream;
`ping` is a keep-alive; `error` reports a failure mid-stream.

Thinking blocks become reasoning items whose `encrypted_content` holds the block's signature, so
`responses_to_messages_request` can replay them exactly. A `redacted_thinking` block has no text;
its opaque `data` is kept in `encrypted_content` behind `REDACTED_THINKING_PREFIX`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pycodex.providers.errors import classify_stream_error
from pycodex.providers.stream_writer import Event, responses_usage
from pycodex.providers.translator import StreamTranslator

REDACTED_THINKING_PREFIX = "anthropic-redacted-thinking:"

_INCOMPLETE_REASONS = {
    "max_tokens": "max_output_tokens",
    "model_context_window_exceeded": "max_output_tokens",
    "refusal": "content_filter",
}
_USAGE_KEYS = (
    "input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_tokens",
)


class MessagesStreamTranslator(StreamTranslator):
    """Messages stream events → Responses events, one event at a time.

    Call `start()` once, `feed(name, data)` per SSE event, `finish()` after `message_stop` (a
    stream that ends without it is a disconnect: do not call `finish()`). The reasoning-only rule
    works as in `ChatStreamTranslator`: check `reasoning_only`, then `retry()` or `fail()`.
    """

    def _reset(self) -> None:
        self._blocks: dict[int, str] = {}  # open block index → block type
        self._streamed_input: set[int] = set()
        self._start_input: dict[int, Any] = {}
        self._stop_reason: str | None = None
        self._usage: dict[str, int] = {}

    def feed(self, event_name: str, data: Mapping[str, Any]) -> list[Event]:
        kind = data.get("type") if isinstance(data.get("type"), str) else event_name
        index = data.get("index")
        index = index if isinstance(index, int) else 0
        match kind:
            case "message_start":
                message = data.get("message")
                if isinstance(message, Mapping):
                    self._add_usage(message.get("usage"))
                return []
            case "content_block_start":
                block = data.get("content_block")
                return self._block_start(index, block if isinstance(block, Mapping) else {})
            case "content_block_delta":
                delta = data.get("delta")
                return self._block_delta(index, delta if isinstance(delta, Mapping) else {})
            case "content_block_stop":
                return self._block_stop(index)
            case "message_delta":
                self._add_usage(data.get("usage"))
                delta = data.get("delta")
                reason = delta.get("stop_reason") if isinstance(delta, Mapping) else None
                self._stop_reason = reason if isinstance(reason, str) else self._stop_reason
                return []
            case "error":
                return self._writer.fail(*classify_stream_error(data, "messages"))
            case _:  # message_stop, ping, and events newer than this code
                return []

    def finish(self) -> list[Event]:
        """Close open items and end the response; `max_tokens` and `refusal` are incomplete."""
        events: list[Event] = []
        for index in list(self._blocks):
            events += self._block_stop(index)
        reason = _INCOMPLETE_REASONS.get(self._stop_reason or "")
        return events + self._writer.complete(self._responses_usage(), reason)

    def _block_start(self, index: int, block: Mapping[str, Any]) -> list[Event]:
        kind = str(block.get("type", ""))
        self._blocks[index] = kind
        match kind:
            case "text":
                return self._writer.text_delta(_str(block.get("text")))
            case "thinking":
                events = self._writer.close_reasoning()  # every block is its own signed item
                events += self._writer.reasoning_delta(_str(block.get("thinking")))
                signature = _str(block.get("signature"))
                return events + (self._writer.reasoning_signature(signature) if signature else [])
            case "redacted_thinking":
                events = self._writer.close_reasoning()
                data = REDACTED_THINKING_PREFIX + _str(block.get("data"))
                return events + self._writer.reasoning_signature(data)
            case "tool_use":
                name = _str(block.get("name"))
                call_id = _str(block.get("id")) or self._writer.new_call_id()
                self._start_input[index] = block.get("input")
                return self._writer.begin_tool_call(index, call_id, name, name in self._custom)
            case _:  # server tool blocks and newer kinds have no Responses counterpart here
                return []

    def _block_delta(self, index: int, delta: Mapping[str, Any]) -> list[Event]:
        match delta.get("type"):
            case "text_delta":
                return self._writer.text_delta(_str(delta.get("text")))
            case "thinking_delta":
                return self._writer.reasoning_delta(_str(delta.get("thinking")))
            case "signature_delta":
                return self._writer.reasoning_signature(_str(delta.get("signature")))
            case "input_json_delta":
                piece = _str(delta.get("partial_json"))
                if piece:
                    self._streamed_input.add(index)
                return self._writer.tool_call_delta(index, piece)
            case _:
                return []

    def _block_stop(self, index: int) -> list[Event]:
        kind = self._blocks.pop(index, None)
        if kind in ("thinking", "redacted_thinking"):
            return self._writer.close_reasoning()
        if kind != "tool_use":
            return []  # text stays open: the next text block continues the same message
        events: list[Event] = []
        start_input = self._start_input.pop(index, None)
        if index not in self._streamed_input and isinstance(start_input, Mapping) and start_input:
            # A block that arrived whole (no deltas) still needs its arguments streamed.
            arguments = json.dumps(start_input, ensure_ascii=False)
            events += self._writer.tool_call_delta(index, arguments)
        return events + self._writer.close_tool_call(index)

    def _add_usage(self, usage: Any) -> None:
        # message_delta repeats (cumulative) counts; the latest value of each key wins.
        if not isinstance(usage, Mapping):
            return
        for key in _USAGE_KEYS:
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                self._usage[key] = value

    def _responses_usage(self) -> dict[str, Any] | None:
        if not self._usage:
            return None
        cache_read = self._usage.get("cache_read_input_tokens", 0)
        cache_write = self._usage.get("cache_creation_input_tokens", 0)
        # Anthropic's input_tokens excludes cached tokens; Responses counts them in.
        input_tokens = self._usage.get("input_tokens", 0) + cache_read + cache_write
        output_tokens = self._usage.get("output_tokens", 0)
        return responses_usage(input_tokens, cache_read, output_tokens, 0, cache_write)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
