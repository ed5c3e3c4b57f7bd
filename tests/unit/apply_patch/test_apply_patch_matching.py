"""Locating chunks: `seek_sequence` tolerance levels and `apply_chunks` placement rules."""

import pytest

from pycodex.apply_patch import (
    AmbiguousMatchError,
    PatchApplyError,
    UpdateChunk,
    apply_chunks,
    seek_sequence,
)


def test_exact_match_takes_the_first_occurrence_after_start() -> None:
    lines = ["a", "b", "a", "b"]
    assert seek_sequence(lines, ["a", "b"], 0) == 0
    assert seek_sequence(lines, ["a", "b"], 1) == 2
    assert seek_sequence(lines, ["a", "b"], 3) is None


def test_tolerance_levels_in_order() -> None:
    assert seek_sequence(["x", "value = 1   "], ["value = 1"], 0) == 1
    assert seek_sequence(["x", "        value = 1"], ["    value = 1"], 0) == 1
    assert seek_sequence(["msg = “hi” — ok\u00a0now"], ['msg = "hi" - ok now'], 0) == 0


def test_end_of_file_prefers_the_last_position() -> None:
    lines = ["x", "end", "y", "x", "end"]
    assert seek_sequence(lines, ["x", "end"], 0, at_end=True) == 3
    assert seek_sequence(lines, ["x", "end"], 0) == 0


def test_fuzzy_match_with_two_candidates_is_ambiguous() -> None:
    lines = ["    return 1", "pass", "        return 1"]
    with pytest.raises(AmbiguousMatchError) as caught:
        seek_sequence(lines, ["  return 1"], 0)
    assert caught.value.positions == (0, 2)


def test_exact_match_wins_over_fuzzy_duplicates() -> None:
    lines = ["    return 1", "return 1", "  return 1"]
    assert seek_sequence(lines, ["return 1"], 0) == 1


def test_chunks_apply_in_order_and_result_ends_with_newline() -> None:
    original = "one\ntwo\nthree\nfour\nfive"
    chunks = [
        UpdateChunk(None, ("two",), ("TWO",), False),
        UpdateChunk(None, ("four", "five"), ("FOUR",), False),
    ]
    assert apply_chunks(original, chunks, "f.txt") == "one\nTWO\nthree\nFOUR\n"


def test_context_line_moves_the_search_past_an_earlier_lookalike() -> None:
    original = "def a():\n    return 0\n\ndef b():\n    return 0\n"
    chunk = UpdateChunk("def b():", ("    return 0",), ("    return 1",), False)
    assert apply_chunks(original, [chunk], "m.py") == (
        "def a():\n    return 0\n\ndef b():\n    return 1\n"
    )


def test_pure_insertion_goes_after_context_or_at_end() -> None:
    original = "header\nbody\n"
    after_context = UpdateChunk("header", (), ("inserted",), False)
    at_end = UpdateChunk(None, (), ("tail",), False)
    assert apply_chunks(original, [after_context], "f") == "header\ninserted\nbody\n"
    assert apply_chunks(original, [at_end], "f") == "header\nbody\ntail\n"


def test_trailing_blank_separator_line_is_forgiven() -> None:
    chunk = UpdateChunk(None, ("b", ""), ("B", ""), False)
    assert apply_chunks("a\nb\n", [chunk], "f") == "a\nB\n"


def test_several_trailing_blank_lines_are_forgiven() -> None:
    chunk = UpdateChunk(None, ("b", "", ""), ("B", "", ""), False)
    assert apply_chunks("a\nb\nc\n", [chunk], "f") == "a\nB\nc\n"


def test_crlf_files_keep_crlf() -> None:
    chunk = UpdateChunk(None, ("b",), ("B", "c"), False)
    assert apply_chunks("a\r\nb\r\n", [chunk], "f") == "a\r\nB\r\nc\r\n"


def test_removing_every_line_leaves_an_empty_file() -> None:
    chunk = UpdateChunk(None, ("only",), (), False)
    assert apply_chunks("only\n", [chunk], "f") == ""


def test_missing_lines_error_names_file_chunk_and_lines() -> None:
    chunks = [
        UpdateChunk(None, ("a",), ("A",), False),
        UpdateChunk(None, ("nope", "still nope"), ("x",), False),
    ]
    with pytest.raises(PatchApplyError) as caught:
        apply_chunks("a\nb\n", chunks, "src/app.py")
    assert str(caught.value) == (
        "Failed to find expected lines in src/app.py (chunk 2 of 2):\nnope\nstill nope"
    )
    assert caught.value.path == "src/app.py"


def test_missing_context_line_is_reported() -> None:
    chunk = UpdateChunk("class Missing:", ("x",), ("y",), False)
    with pytest.raises(PatchApplyError, match=r"context line '@@ class Missing:' in f.py"):
        apply_chunks("x\n", [chunk], "f.py")


def test_chunk_must_come_after_the_previous_one() -> None:
    chunks = [
        UpdateChunk(None, ("b",), ("B",), False),
        UpdateChunk(None, ("a",), ("A",), False),
    ]
    with pytest.raises(PatchApplyError, match=r"chunk 2 of 2"):
        apply_chunks("a\nb\n", chunks, "f")


def test_ambiguous_fuzzy_chunk_is_refused_with_positions() -> None:
    original = "if x:\n    go()  \nelse:\n    go()\t\n"
    chunk = UpdateChunk(None, ("    go()",), ("    stop()",), False)
    with pytest.raises(AmbiguousMatchError) as caught:
        apply_chunks(original, [chunk], "flow.py")
    message = str(caught.value)
    assert message.startswith("Ambiguous match in flow.py (chunk 1 of 1)")
    assert "lines 2, 4" in message
    assert caught.value.positions == (1, 3)
