"""Token usage as the Responses API reports it, and its running total."""

from __future__ import annotations

from typing import Any

from pycodex._records import dataclass


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0
    # Input tokens written to the provider's prompt cache (Anthropic reports them; OpenAI does not).
    cache_write_input_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_output_tokens=self.reasoning_output_tokens + other.reasoning_output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cache_write_input_tokens=self.cache_write_input_tokens + other.cache_write_input_tokens,
        )

    @classmethod
    def from_wire(cls, usage: dict[str, Any]) -> TokenUsage:
        """Read a `response.completed` usage object; missing numbers count as zero."""
        input_details = usage.get("input_tokens_details") or {}
        output_details = usage.get("output_tokens_details") or {}
        input_tokens = _int(usage.get("input_tokens"))
        output_tokens = _int(usage.get("output_tokens"))
        total = usage.get("total_tokens")
        return cls(
            input_tokens=input_tokens,
            cached_input_tokens=_int(input_details.get("cached_tokens")),
            output_tokens=output_tokens,
            reasoning_output_tokens=_int(output_details.get("reasoning_tokens")),
            total_tokens=_int(total) if total is not None else input_tokens + output_tokens,
            cache_write_input_tokens=_int(input_details.get("cache_write_tokens")),
        )

    @classmethod
    def from_event_payload(cls, payload: dict[str, Any]) -> TokenUsage:
        """Read back what `to_event_payload` wrote (a session file's `token_count` event)."""
        return cls(
            input_tokens=_int(payload.get("input_tokens")),
            cached_input_tokens=_int(payload.get("cached_input_tokens")),
            output_tokens=_int(payload.get("output_tokens")),
            reasoning_output_tokens=_int(payload.get("reasoning_output_tokens")),
            total_tokens=_int(payload.get("total_tokens")),
            cache_write_input_tokens=_int(payload.get("cache_write_input_tokens")),
        )

    def to_event_payload(self) -> dict[str, int]:
        """The field names session files use (`token_count` events)."""
        return {
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cache_write_input_tokens": self.cache_write_input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_output_tokens": self.reasoning_output_tokens,
            "total_tokens": self.total_tokens,
        }


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
