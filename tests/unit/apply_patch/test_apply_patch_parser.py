"""Parsing patch text into the patch data model, and the parse errors' line numbers."""

import pytest

from pycodex.apply_patch import (
    AddFile,
    DeleteFile,
    Patch,
    PatchParseError,
    UpdateChunk,
    UpdateFile,
    parse_patch,
)


def test_every_operation_kind_is_parsed() -> None:
    text = (
        "*** Begin Patch\n"
        "*** Add File: docs/new.txt\n"
        "+first\n"
        "+\n"
        "+third\n"
        "*** Delete File: old.txt\n"
        "*** Update File: src/app.py\n"
        "*** Move to: src/main.py\n"
        "@@ def main():\n"
        " keep\n"
        "-old\n"
        "+new\n"
        "*** End Patch\n"
    )
    assert parse_patch(text) == Patch(
        (
            AddFile("docs/new.txt", "first\n\nthird\n"),
            DeleteFile("old.txt"),
            UpdateFile(
                "src/app.py",
                "src/main.py",
                (UpdateChunk("def main():", ("keep", "old"), ("keep", "new"), False),),
            ),
        )
    )


def test_first_chunk_may_omit_its_marker_and_later_chunks_use_bare_markers() -> None:
    text = (
        "*** Begin Patch\n"
        "*** Update File: a.txt\n"
        "-one\n"
        "+ONE\n"
        "@@\n"
        " nine\n"
        "-ten\n"
        "*** End of File\n"
        "*** End Patch"
    )
    (hunk,) = parse_patch(text).hunks
    assert hunk == UpdateFile(
        "a.txt",
        None,
        (
            UpdateChunk(None, ("one",), ("ONE",), False),
            UpdateChunk(None, ("nine", "ten"), ("nine",), True),
        ),
    )


def test_empty_line_inside_a_chunk_is_an_empty_context_line() -> None:
    text = "*** Begin Patch\n*** Update File: a.txt\n@@\n first\n\n-second\n*** End Patch\n"
    (hunk,) = parse_patch(text).hunks
    assert isinstance(hunk, UpdateFile)
    assert hunk.chunks[0].old_lines == ("first", "", "second")
    assert hunk.chunks[0].new_lines == ("first", "")


def test_markers_tolerate_surrounding_whitespace_and_crlf() -> None:
    text = "\n  *** Begin Patch  \r\n*** Delete File: gone.txt\r\n\t*** End Patch \r\n\n"
    assert parse_patch(text) == Patch((DeleteFile("gone.txt"),))


@pytest.mark.parametrize(
    "opener",
    ["<<'EOF'", '<<"EOF"', "<<EOF", "apply_patch <<'EOF'", "apply_patch <<'PATCH'"],
)
def test_heredoc_wrapped_patch_is_unwrapped(opener: str) -> None:
    delimiter = opener.rsplit("<<", 1)[1].strip("'\"")
    text = f"{opener}\n*** Begin Patch\n*** Delete File: x.py\n*** End Patch\n{delimiter}\n"
    assert parse_patch(text) == Patch((DeleteFile("x.py"),))


def test_unknown_hunk_header_names_the_line_and_the_expected_headers() -> None:
    text = "*** Begin Patch\n*** Add File: a.txt\nfoo\n*** End Patch\n"
    with pytest.raises(PatchParseError) as caught:
        parse_patch(text)
    assert str(caught.value) == (
        "invalid patch: line 3: expected a hunk header '*** Add File:', '*** Delete File:' or "
        "'*** Update File:', got 'foo'"
    )
    assert caught.value.line_number == 3


def test_line_numbers_count_from_the_start_of_the_given_text() -> None:
    text = "apply_patch <<'EOF'\n\n*** Begin Patch\n*** Frobnicate File: a\n*** End Patch\nEOF"
    with pytest.raises(PatchParseError) as caught:
        parse_patch(text)
    assert caught.value.line_number == 4
    assert "got '*** Frobnicate File: a'" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "expected '*** Begin Patch', got an empty patch"),
        ("hello\n*** End Patch", 1, "expected '*** Begin Patch', got 'hello'"),
        ("*** Begin Patch\n*** Delete File: a\n", 2, "expected '*** End Patch' as the last line"),
        ("*** Begin Patch\n*** End Patch", 2, "expected a hunk header"),
        ("*** Begin Patch\n*** Add File:   \n*** End Patch", 2, "expected a path after"),
        ("*** Begin Patch\n*** Update File: a\n*** End Patch", 2, "at least one chunk"),
        (
            "*** Begin Patch\n*** Update File: a\n@@\n-x\nstray\n*** End Patch",
            5,
            "expected '@@' to start the next chunk of a, got 'stray'",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n@@\nstray\n*** End Patch",
            4,
            "expected a chunk line starting with ' ', '-' or '+', got 'stray'",
        ),
        (
            "*** Begin Patch\n*** Update File: a\n@@\n*** End of File\n*** End Patch",
            4,
            "expected at least one ' ', '-' or '+' line",
        ),
    ],
)
def test_parse_errors_name_line_and_expectation(text: str, line: int, fragment: str) -> None:
    with pytest.raises(PatchParseError) as caught:
        parse_patch(text)
    assert caught.value.line_number == line
    assert str(caught.value).startswith(f"invalid patch: line {line}: ")
    assert fragment in str(caught.value)
