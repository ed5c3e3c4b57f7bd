"""Chat Completions stream → Responses streaming events (see `stream_writer`), chunk by chunk.

Chat chunk facts relied on: `choices[0].delta` carries `content`, `reasoning_content` (llama.cpp,
older vLLM) or `reasoning` (newer vLLM, Ollama), and `tool_calls` pieces keyed by `index` (the
first piece of a call has its `id` and `function.name`, later pieces only `function.arguments`,
and the pieces of parallel calls may interleave). `finish_reason` arrives on the last choice chunk;
with `stream_options.include_usage` a final chunk with empty `choices` carries `usage`. Some
servers report a failure mid-stream as a chunk holding `error`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycodex._records import dataclass, field
from pycodex.providers.errors import classify_stream_error
from pycodex.providers.stream_writer import Event, responses_usage
from pycodex.providers.translator import StreamTranslator

_INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


@dataclass(slots=True)
class _PendingCall:
    """A tool call seen in the stream; it opens once its name is known."""

    call_id: str = ""
    name: str = ""
    early_arguments: list[str] = field(default_factory=list)
    opened: bool = False


class ChatStreamTranslator(StreamTranslator):
    """Chat Completions chunks → Responses events, one chunk at a time.

    Call `start()` once, `feed()` per parsed chunk, `finish()` after `data: [DONE]` (a stream
    that ends without it is a disconnect: do not call `finish()`). Before `finish()`, check
    `reasoning_only`: if true, call `retry()` and feed the answer to the same request sent again;
    if it is reasoning-only again, end with `fail("model_output_invalid", ...)`.
    """

    def _reset(self) -> None:
        self._calls: dict[int, _PendingCall] = {}
        self._finish_reason: str | None = None
        self._usage: dict[str, Any] | None = None

    def feed(self, chunk: Mapping[str, Any]) -> list[Event]:
        if "error" in chunk or chunk.get("object") == "error":
            return self._writer.fail(*classify_stream_error(chunk, "chat"))
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self._usage = _chat_usage(usage)
        choice = _first_choice(chunk)
        if choice is None:
            return []
        delta = choice.get("delta")
        delta = delta if isinstance(delta, Mapping) else {}
        events = self._writer.reasoning_delta(_reasoning_piece(delta))
        events += self._writer.text_delta(_str(delta.get("content")) + _str(delta.get("refusal")))
        calls = delta.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(call, Mapping):
                events += self._tool_call_delta(position, call)
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self._finish_reason = reason
        return events

    def finish(self) -> list[Event]:
        """Close open items and end the response; `length` and `content_filter` are incomplete."""
        events: list[Event] = []
        for index, pending in self._calls.items():
            if not pending.opened:  # a call whose name never came; the tool layer reports it
                events += self._open_call(index, pending)
        reason = _INCOMPLETE_REASONS.get(self._finish_reason or "")
        return events + self._writer.complete(self._usage, reason)

    def _tool_call_delta(self, position: int, call: Mapping[str, Any]) -> list[Event]:
        index = self._call_index(position, call)
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        pending = self._calls.setdefault(index, _PendingCall())
        pending.call_id = pending.call_id or _str(call.get("id"))
        pending.name = pending.name or _str(function.get("name"))
        arguments = _str(function.get("arguments"))
        if pending.opened:
            return self._writer.tool_call_delta(index, arguments)
        pending.early_arguments.append(arguments)
        return self._open_call(index, pending) if pending.name else []

    def _open_call(self, index: int, pending: _PendingCall) -> list[Event]:
        pending.opened = True
        call_id = pending.call_id or self._writer.new_call_id()
        custom = pending.name in self._custom
        events = self._writer.begin_tool_call(index, call_id, pending.name, custom)
        return events + self._writer.tool_call_delta(index, "".join(pending.early_arguments))

    def _call_index(self, position: int, call: Mapping[str, Any]) -> int:
        index = call.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        # Servers that leave out `index`: a known id continues its call, a new id starts one.
        call_id = _str(call.get("id"))
        if call_id:
            known = [key for key, pending in self._calls.items() if pending.call_id == call_id]
            return known[0] if known else max(self._calls, default=position - 1) + 1
        return max(self._calls, default=position)


def _first_choice(chunk: Mapping[str, Any]) -> Mapping[str, Any] | None:
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return None
    for choice in choices:
        if isinstance(choice, Mapping) and choice.get("index", 0) == 0:
            return choice
    return None


def _reasoning_piece(delta: Mapping[str, Any]) -> str:
    # Some vLLM versions send the same text under both names; one of them is enough.
    return _str(delta.get("reasoning_content")) or _str(delta.get("reasoning"))


def _chat_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    return responses_usage(
        _int(usage.get("prompt_tokens")),
        _int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, Mapping) else 0,
        _int(usage.get("completion_tokens")),
        _int(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, Mapping)
        else 0,
    )


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
