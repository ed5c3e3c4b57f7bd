"""The packaged grammar and tool instructions, and the package's public names."""

import re

import pycodex.apply_patch as apply_patch
from pycodex.apply_patch import load_grammar, load_tool_instructions, parse_patch


def test_grammar_names_every_marker_of_the_format() -> None:
    grammar = load_grammar()
    assert grammar.splitlines()[0].startswith("//")
    assert re.search(r"^start: begin_patch operation\+ end_patch$", grammar, re.MULTILINE)
    for marker in (
        "*** Begin Patch",
        "*** End Patch",
        "*** Add File: ",
        "*** Delete File: ",
        "*** Update File: ",
        "*** Move to: ",
        "*** End of File",
        "@@",
    ):
        assert f'"{marker}' in grammar


def test_instructions_example_is_a_valid_patch() -> None:
    instructions = load_tool_instructions()
    blocks = re.findall(r"```\n(.*?)```", instructions, re.DOTALL)
    example = blocks[-1]
    kinds = [type(hunk).__name__ for hunk in parse_patch(example).hunks]
    assert kinds == ["AddFile", "UpdateFile", "DeleteFile"]


def test_public_names_are_pinned() -> None:
    assert sorted(apply_patch.__all__) == [
        "AddFile",
        "AmbiguousMatchError",
        "ApplyResult",
        "ChangeKind",
        "DeleteFile",
        "FileChange",
        "Hunk",
        "Patch",
        "PatchApplyError",
        "PatchError",
        "PatchParseError",
        "PathNotWritableError",
        "UpdateChunk",
        "UpdateFile",
        "apply_chunks",
        "apply_patch_text",
        "load_grammar",
        "load_tool_instructions",
        "parse_patch",
        "plan_patch",
        "seek_sequence",
    ]
