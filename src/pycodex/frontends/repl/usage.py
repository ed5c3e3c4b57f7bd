"""Token usage after a turn, and how much of the model's context window is left.

"Context left" follows upstream Codex: the usable window is the model's window times the
effective-window percentage (95%); a baseline of 12,000 tokens (instructions, tool specs, room to
compact) counts as always used, so the percentage measures what the user can still fill. The size
of the context right now is the `total_tokens` of the last response (its input plus its output).
"""

from __future__ import annotations

from pycodex.protocol.usage import TokenUsage

BASELINE_TOKENS = 12_000
EFFECTIVE_WINDOW_PERCENT = 95
# Used only until the first token count arrives with the window of the model in use.
DEFAULT_CONTEXT_WINDOW = 272_000


def effective_window(context_window: int | None) -> int:
    window = context_window if context_window and context_window > 0 else DEFAULT_CONTEXT_WINDOW
    return window * EFFECTIVE_WINDOW_PERCENT // 100


def percent_context_left(last: TokenUsage | None, context_window: int | None) -> int:
    """0–100; 100 before any usage has been reported."""
    if last is None:
        return 100
    window = effective_window(context_window)
    if window <= BASELINE_TOKENS:
        return 0
    usable = window - BASELINE_TOKENS
    used = max(last.total_tokens - BASELINE_TOKENS, 0)
    remaining = max(usable - used, 0)
    return round(min(max(remaining / usable * 100, 0.0), 100.0))


def format_count(value: int) -> str:
    """12345 → "12.3K": short enough for a status bar."""
    if value < 1_000:
        return str(value)
    for divisor, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if value >= divisor:
            scaled = value / divisor
            return f"{scaled:.1f}{suffix}" if scaled < 100 else f"{scaled:.0f}{suffix}"
    return str(value)  # unreachable: the loop covers every value ≥ 1000


def usage_line(total: TokenUsage, last: TokenUsage | None, context_window: int | None) -> str:
    """The one line shown after each turn."""
    cached = f" (+{format_count(total.cached_input_tokens)} cached)"
    parts = [
        f"tokens: {format_count(total.total_tokens)} total",
        f"{format_count(total.input_tokens)} in{cached if total.cached_input_tokens else ''}",
        f"{format_count(total.output_tokens)} out",
        f"{percent_context_left(last, context_window)}% context left",
    ]
    return " · ".join(parts)
