"""Token estimates and middle truncation for command output shown to the model.

A token is estimated as four bytes of UTF-8, the same rough rule upstream Codex uses; it needs no
tokenizer and errs on the side of counting too many tokens for non-ASCII text.

`truncate_middle` keeps the beginning (where a command says what it is doing) and the end (where
errors and summaries land) and replaces the middle with one marker line. Everything is done with a
constant number of passes over the encoded text, so a megabyte costs milliseconds.
"""

from __future__ import annotations

from pycodex._records import dataclass

BYTES_PER_TOKEN = 4

# Surrogates can reach us from text decoded with `surrogateescape`; carry them through unchanged
# instead of failing on them.
_CODEC_ERRORS = "surrogatepass"


@dataclass(frozen=True, slots=True)
class TruncatedText:
    text: str
    original_token_count: int
    truncated: bool


def approx_token_count(text: str) -> int:
    """ceil(UTF-8 length / 4)."""
    return _tokens_for_bytes(len(text.encode("utf-8", _CODEC_ERRORS)))


def _tokens_for_bytes(byte_count: int) -> int:
    return -(-byte_count // BYTES_PER_TOKEN)


def truncation_marker(removed_tokens: int) -> str:
    return f"…{removed_tokens} tokens truncated…"


def truncate_middle(text: str, max_tokens: int) -> TruncatedText:
    """Fit `text` into about `max_tokens` tokens by cutting out its middle.

    Half of the budget goes to the head and half to the tail. Cuts fall on line boundaries when
    that keeps at least half of each half, and never inside a UTF-8 sequence. The marker line
    between head and tail says how many tokens were removed.
    """
    data = text.encode("utf-8", _CODEC_ERRORS)
    original = _tokens_for_bytes(len(data))
    if original <= max_tokens:
        return TruncatedText(text=text, original_token_count=original, truncated=False)
    half = max(max_tokens, 0) * BYTES_PER_TOKEN // 2
    head_end = _head_cut(data, half)
    tail_start = _tail_cut(data, len(data) - half)
    head = data[:head_end].decode("utf-8", _CODEC_ERRORS)
    tail = data[tail_start:].decode("utf-8", _CODEC_ERRORS)
    marker = truncation_marker(_tokens_for_bytes(tail_start - head_end))
    if head and not head.endswith("\n"):
        head += "\n"
    body = f"{head}{marker}\n{tail}" if tail else f"{head}{marker}"
    return TruncatedText(text=body, original_token_count=original, truncated=True)


def _head_cut(data: bytes, limit: int) -> int:
    """End offset of the kept head: after the last newline within `limit`, else a char boundary."""
    newline = data.rfind(b"\n", 0, limit)
    if newline >= 0 and newline + 1 >= limit // 2:
        return newline + 1
    return _char_boundary_at_or_before(data, limit)


def _tail_cut(data: bytes, start: int) -> int:
    """Start offset of the kept tail: after the first newline from `start`, else a char boundary."""
    keep = len(data) - start
    newline = data.find(b"\n", start)
    if 0 <= newline < len(data) - 1 and len(data) - (newline + 1) >= keep // 2:
        return newline + 1
    return _char_boundary_at_or_after(data, start)


def _is_continuation(byte: int) -> bool:
    return byte & 0xC0 == 0x80


def _char_boundary_at_or_before(data: bytes, offset: int) -> int:
    while 0 < offset < len(data) and _is_continuation(data[offset]):
        offset -= 1
    return offset


def _char_boundary_at_or_after(data: bytes, offset: int) -> int:
    while offset < len(data) and _is_continuation(data[offset]):
        offset += 1
    return offset
