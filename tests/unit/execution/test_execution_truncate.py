"""Token estimates, middle truncation and the bounded capture buffers."""

from __future__ import annotations

import re

import pytest

from pycodex.execution.capture import HeadTailText, Utf8Sink
from pycodex.execution.truncate import approx_token_count, truncate_middle

MARKER = re.compile(r"^…(\d+) tokens truncated…$", re.MULTILINE)


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 0), ("abcd", 1), ("abcde", 2), ("é", 1), ("😀😀", 2)]
)
def test_approx_token_count_is_utf8_bytes_over_four_rounded_up(text: str, tokens: int) -> None:
    assert approx_token_count(text) == tokens


def test_text_within_budget_is_returned_unchanged() -> None:
    result = truncate_middle("hello\nworld\n", 10)
    assert (result.text, result.original_token_count, result.truncated) == (
        "hello\nworld\n",
        3,
        False,
    )


def test_keeps_whole_lines_from_head_and_tail_with_marker_between() -> None:
    text = "".join(f"line {i:03d}\n" for i in range(1000))  # 9000 bytes, 2250 tokens
    result = truncate_middle(text, 100)
    assert result.truncated
    assert result.original_token_count == 2250
    assert result.text.startswith("line 000\nline 001\n")
    assert result.text.endswith("line 998\nline 999\n")
    lines = result.text.splitlines()
    kept = [line for line in lines if not MARKER.match(line)]
    assert len(kept) == len(lines) - 1
    assert all(re.fullmatch(r"line \d{3}", line) for line in kept)
    marker = MARKER.search(result.text)
    assert marker is not None
    kept_bytes = sum(len(line) + 1 for line in kept)
    assert int(marker.group(1)) == -(-(9000 - kept_bytes) // 4)
    assert approx_token_count("".join(line + "\n" for line in kept)) <= 100


def test_never_splits_a_multibyte_character_in_a_single_long_line() -> None:
    text = "é" * 10_000 + "ü" * 10_000
    result = truncate_middle(text, 11)
    head, marker, tail = result.text.split("\n")
    assert head and set(head) == {"é"}
    assert tail and set(tail) == {"ü"}
    assert MARKER.fullmatch(marker)
    assert "\ufffd" not in result.text


def test_zero_budget_leaves_only_the_marker() -> None:
    result = truncate_middle("x" * 100, 0)
    assert result.text == "…25 tokens truncated…"


def test_head_tail_text_keeps_both_ends_and_counts_the_middle() -> None:
    buffer = HeadTailText(10)
    for piece in ["abc", "defgh", "ijklmnop", "qrstuvwxyz"]:
        buffer.append(piece)
    assert len(buffer) == 26
    captured = buffer.take()
    assert (captured.head, captured.tail, captured.omitted_chars) == ("abcde", "vwxyz", 16)
    assert captured.joined() == "abcde\n…16 characters omitted…\nvwxyz"
    assert buffer.take().joined() == ""


def test_utf8_sink_joins_split_characters_and_replaces_invalid_bytes() -> None:
    target = HeadTailText(100)
    sink = Utf8Sink(target)
    encoded = "né\n".encode()
    sink.feed(encoded[:2])
    sink.feed(encoded[2:] + b"\xff")
    sink.feed(b"\xc3")  # an unfinished sequence at end of stream
    sink.flush()
    assert target.take().joined() == "né\n\ufffd\ufffd"
