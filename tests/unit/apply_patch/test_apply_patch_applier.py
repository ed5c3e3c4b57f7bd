"""Applying patches to real files: results on disk, summaries, diffs and all-or-nothing errors."""

from pathlib import Path

import pytest

from pycodex.apply_patch import (
    AmbiguousMatchError,
    ChangeKind,
    PatchApplyError,
    PatchError,
    PatchParseError,
    apply_patch_text,
    parse_patch,
    plan_patch,
)


def _patch(*body: str) -> str:
    return "\n".join(("*** Begin Patch", *body, "*** End Patch")) + "\n"


def test_add_update_move_delete_and_exact_summary(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/app.py").write_text("def greet():\n    print('Hi')\n")
    (tmp_path / "obsolete.txt").write_text("bye\n")
    (tmp_path / "notes.md").write_text("# Notes\nold line\n")
    text = _patch(
        "*** Add File: docs/hello.txt",
        "+Hello",
        "+world",
        "*** Update File: notes.md",
        "@@",
        " # Notes",
        "-old line",
        "+new line",
        "*** Update File: src/app.py",
        "*** Move to: src/main.py",
        "@@ def greet():",
        "-    print('Hi')",
        "+    print('Hello')",
        "*** Delete File: obsolete.txt",
    )
    result = apply_patch_text(text, tmp_path)
    assert result.summary() == (
        "Success. Updated the following files:\n"
        "A docs/hello.txt\n"
        "M notes.md\n"
        "M src/main.py\n"
        "D obsolete.txt\n"
    )
    assert (result.added, result.modified, result.deleted) == (
        ["docs/hello.txt"],
        ["notes.md", "src/main.py"],
        ["obsolete.txt"],
    )
    assert (tmp_path / "docs/hello.txt").read_text() == "Hello\nworld\n"
    assert (tmp_path / "notes.md").read_text() == "# Notes\nnew line\n"
    assert (tmp_path / "src/main.py").read_text() == "def greet():\n    print('Hello')\n"
    assert not (tmp_path / "src/app.py").exists()
    assert not (tmp_path / "obsolete.txt").exists()


def test_diffs_are_unified_diffs_per_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    text = _patch("*** Update File: a.txt", "-two", "+TWO", "*** Add File: b.txt", "+new")
    result = apply_patch_text(text, tmp_path)
    assert result.diffs["a.txt"] == "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n"
    assert result.diffs["b.txt"] == "--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+new\n"


def test_several_chunks_with_context_and_end_of_file(tmp_path: Path) -> None:
    source = "import os\n\ndef a():\n    return 1\n\ndef b():\n    return 1\n\nmain()\n"
    (tmp_path / "m.py").write_text(source)
    text = _patch(
        "*** Update File: m.py",
        "@@ def a():",
        "-    return 1",
        "+    return 2",
        "@@ def b():",
        "-    return 1",
        "+    return 3",
        "@@",
        " ",
        "-main()",
        "+main(verbose=True)",
        "*** End of File",
    )
    apply_patch_text(text, tmp_path)
    assert (tmp_path / "m.py").read_text() == (
        "import os\n\ndef a():\n    return 2\n\ndef b():\n    return 3\n\nmain(verbose=True)\n"
    )


def test_whitespace_and_unicode_tolerant_matching(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(
        "def f():\n        x = 1   \n    # range 1\u20132 \u2014 inclusive\n    return x\n"
    )
    text = _patch(
        "*** Update File: t.py",
        "@@ def f():",
        "-    x = 1",
        "-    # range 1-2 - inclusive",
        "+    x = 2",
    )
    apply_patch_text(text, tmp_path)
    assert (tmp_path / "t.py").read_text() == "def f():\n    x = 2\n    return x\n"


def test_ambiguous_fuzzy_match_is_refused_and_file_untouched(tmp_path: Path) -> None:
    original = "a:\n    step()  \nb:\n    step()\t\n"
    (tmp_path / "s.txt").write_text(original)
    with pytest.raises(AmbiguousMatchError, match=r"s\.txt \(chunk 1 of 1\)"):
        apply_patch_text(_patch("*** Update File: s.txt", "-    step()", "+    skip()"), tmp_path)
    assert (tmp_path / "s.txt").read_text() == original


def test_failing_second_file_leaves_first_untouched(tmp_path: Path) -> None:
    (tmp_path / "first.txt").write_text("alpha\n")
    (tmp_path / "second.txt").write_text("beta\n")
    text = _patch(
        "*** Update File: first.txt",
        "-alpha",
        "+ALPHA",
        "*** Add File: brand/new.txt",
        "+x",
        "*** Update File: second.txt",
        "@@",
        "-gamma",
        "+GAMMA",
    )
    with pytest.raises(PatchApplyError) as caught:
        apply_patch_text(text, tmp_path)
    assert str(caught.value) == (
        "Failed to find expected lines in second.txt (chunk 1 of 1):\ngamma"
    )
    assert (tmp_path / "first.txt").read_text() == "alpha\n"
    assert not (tmp_path / "brand").exists()


def test_write_failure_midway_restores_written_files(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("original\n")
    (tmp_path / "blocker").write_text("a file where a directory is needed\n")
    text = _patch(
        "*** Update File: keep.txt",
        "-original",
        "+changed",
        "*** Add File: fresh/dir/made.txt",
        "+made",
        "*** Add File: blocker/inside.txt",
        "+cannot be written",
    )
    with pytest.raises(PatchApplyError) as caught:
        apply_patch_text(text, tmp_path)
    assert str(caught.value).startswith("Failed to write blocker/inside.txt: ")
    assert str(caught.value).endswith("no files were changed.")
    assert (tmp_path / "keep.txt").read_text() == "original\n"
    assert not (tmp_path / "fresh").exists()
    assert (tmp_path / "blocker").read_text() == "a file where a directory is needed\n"


def test_plan_computes_contents_without_touching_disk(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    patch = parse_patch(_patch("*** Update File: a.txt", "-x", "+y", "*** Add File: b.txt", "+b"))
    changes = plan_patch(patch, tmp_path)
    assert [(c.kind, c.old_content, c.new_content) for c in changes] == [
        (ChangeKind.UPDATE, "x\n", "y\n"),
        (ChangeKind.ADD, None, "b\n"),
    ]
    assert (tmp_path / "a.txt").read_text() == "x\n"
    assert not (tmp_path / "b.txt").exists()


def test_later_operations_see_earlier_ones(tmp_path: Path) -> None:
    text = _patch(
        "*** Add File: new.txt",
        "+one",
        "*** Update File: new.txt",
        "-one",
        "+two",
        "*** Update File: new.txt",
        "+three",
    )
    result = apply_patch_text(text, tmp_path)
    assert (tmp_path / "new.txt").read_text() == "two\nthree\n"
    assert result.summary() == "Success. Updated the following files:\nA new.txt\nM new.txt\n"


def test_add_overwrites_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old\n")
    apply_patch_text(_patch("*** Add File: a.txt", "+new"), tmp_path)
    assert (tmp_path / "a.txt").read_text() == "new\n"


def test_absolute_paths_are_accepted(tmp_path: Path) -> None:
    target = tmp_path / "abs.txt"
    result = apply_patch_text(_patch(f"*** Add File: {target}", "+hi"), tmp_path / "elsewhere")
    assert target.read_text() == "hi\n"
    assert result.added == [str(target)]


def test_heredoc_wrapped_patch_applies(tmp_path: Path) -> None:
    text = "apply_patch <<'EOF'\n" + _patch("*** Add File: h.txt", "+hi") + "EOF\n"
    apply_patch_text(text, tmp_path)
    assert (tmp_path / "h.txt").read_text() == "hi\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            ("*** Update File: missing.txt", "-a", "+b"),
            "Failed to update missing.txt: the file does not exist.",
        ),
        (
            ("*** Delete File: missing.txt",),
            "Failed to delete missing.txt: the file does not exist.",
        ),
        (
            ("*** Update File: folder", "-a", "+b"),
            "Failed to update folder: it is a directory, not a file.",
        ),
        (
            ("*** Delete File: folder",),
            "Failed to delete folder: it is a directory, not a file.",
        ),
        (
            ("*** Add File: folder", "+x"),
            "Failed to add folder: a directory already exists at that path.",
        ),
        (
            ("*** Update File: binary.bin", "-a", "+b"),
            "Failed to update binary.bin: it is not valid UTF-8 text, so it cannot be patched.",
        ),
    ],
)
def test_clear_errors_for_bad_targets(tmp_path: Path, body: tuple[str, ...], message: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "binary.bin").write_bytes(b"a\n\xff\xfe\n")
    with pytest.raises(PatchApplyError) as caught:
        apply_patch_text(_patch(*body), tmp_path)
    assert str(caught.value) == message
    assert (tmp_path / "binary.bin").read_bytes() == b"a\n\xff\xfe\n"


def test_deleting_a_non_utf8_file_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\xff\x00\xfe")
    result = apply_patch_text(_patch("*** Delete File: blob.bin"), tmp_path)
    assert result.deleted == ["blob.bin"]
    assert not (tmp_path / "blob.bin").exists()


def test_parse_errors_surface_as_patch_errors(tmp_path: Path) -> None:
    with pytest.raises(PatchParseError) as caught:
        apply_patch_text("*** Begin Patch\nnonsense\n*** End Patch", tmp_path)
    assert isinstance(caught.value, PatchError)
    assert caught.value.line_number == 2
