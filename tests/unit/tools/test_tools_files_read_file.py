"""read_file through the registry: slices, indentation blocks and the errors the model sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pycodex.protocol.items import FunctionCall
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import ToolContext, ToolOutput
from pycodex.tools.builtin.read_file import ReadFileTool
from pycodex.tools.registry import ToolRegistry, dispatch

PYTHON_SOURCE = """\
import os


class Greeter:
    \"\"\"Says hello.\"\"\"

    # The greeting used by default.
    @staticmethod
    def hello(name):
        if name:
            return f"hi {name}"
        return "hi"

    def bye(self):
        return "bye"


def main():
    Greeter.hello("x")
"""

BRACE_SOURCE = """\
function outer() {
  const x = 1;
  if (x) {
    run();
  }
  return x;
}
"""


async def read(cwd: Path, **arguments: Any) -> ToolOutput:
    context = ToolContext(
        call_id="call-1", turn_id="turn-1", cwd=cwd, sandbox_policy=SandboxPolicy.read_only()
    )
    call = FunctionCall(name="read_file", arguments=json.dumps(arguments), call_id="call-1")
    _item, output = await dispatch(ToolRegistry([ReadFileTool()]), call, context)
    return output


def numbered(source: str, first: int, last: int) -> str:
    lines = source.splitlines()
    return "\n".join(f"L{n}: {lines[n - 1]}" for n in range(first, last + 1))


@pytest.fixture
def python_file(tmp_path: Path) -> Path:
    path = tmp_path / "greeter.py"
    path.write_text(PYTHON_SOURCE)
    return path


async def test_slice_defaults_to_the_whole_file(tmp_path: Path, python_file: Path) -> None:
    output = await read(tmp_path, file_path=str(python_file))
    assert output == ToolOutput(numbered(PYTHON_SOURCE, 1, 19))


async def test_slice_honours_offset_and_limit_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "notes.txt").write_text("one\ntwo\nthree\nfour\n")
    output = await read(tmp_path, file_path="pkg/notes.txt", offset=2, limit=2)
    assert output.text == "L2: two\nL3: three"


async def test_slice_strips_crlf_replaces_bad_utf8_and_cuts_long_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"caf\xe9\r\n" + b"x" * 600 + b"\nlast")
    output = await read(tmp_path, file_path="mixed.txt")
    assert output.text == "L1: caf\ufffd\nL2: " + "x" * 500 + "\nL3: last"


async def test_empty_file_is_reported_as_such(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert (await read(tmp_path, file_path="empty.txt")).text == "(empty file)"


async def test_errors_are_one_line_failures(tmp_path: Path, python_file: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"PK\x03\x04\x00\x00data")
    cases = {
        "missing.txt": f"file not found: {tmp_path / 'missing.txt'}",
        ".": f"{tmp_path} is a directory, not a file (use list_dir)",
        "blob.bin": f"{tmp_path / 'blob.bin'} looks like a binary file; read_file only reads text",
    }
    for file_path, message in cases.items():
        assert await read(tmp_path, file_path=file_path) == ToolOutput(message, success=False)
    past_end = await read(tmp_path, file_path=str(python_file), offset=20)
    assert past_end == ToolOutput("offset 20 is past the end of the file (19 lines)", False)


async def test_arguments_are_validated_and_unknown_keys_tolerated(python_file: Path) -> None:
    cwd = python_file.parent
    bad_offset = await read(cwd, file_path="greeter.py", offset=0)
    assert bad_offset == ToolOutput(
        "invalid arguments for read_file: offset: expected at least 1, got 0",
        success=False,
    )
    bad_mode = await read(cwd, file_path="greeter.py", mode="whole")
    assert not bad_mode.success
    assert bad_mode.text.startswith("invalid arguments for read_file: mode:")
    tolerant = await read(cwd, file_path="greeter.py", limit=1, surprise=True)
    assert tolerant == ToolOutput("L1: import os")


@pytest.mark.parametrize(
    ("options", "first", "last"),
    [
        # A plain statement's innermost block is its parent's.
        ({"anchor_line": 11, "max_levels": 1}, 10, 11),
        # Two levels up reaches the method, with its comment and decorator.
        ({"anchor_line": 11, "max_levels": 2}, 7, 12),
        ({"anchor_line": 11, "max_levels": 2, "include_header": False}, 9, 12),
        # A line that opens a block is its own first level; a comment moves to the code below.
        ({"anchor_line": 9, "max_levels": 1}, 7, 12),
        ({"anchor_line": 7, "max_levels": 1}, 7, 12),
        # A blank anchor moves to the next code line.
        ({"anchor_line": 13, "max_levels": 1}, 14, 15),
        # Unlimited climbing stops at the top-level class; trailing blank lines are dropped.
        ({"anchor_line": 11}, 4, 15),
        # Siblings: the whole body of the method's class.
        ({"anchor_line": 9, "max_levels": 1, "include_siblings": True}, 5, 15),
        # A block longer than max_lines is windowed around the anchor.
        ({"anchor_line": 11, "max_lines": 3}, 10, 12),
        ({"anchor_line": 5, "max_lines": 3}, 4, 6),
        # A top-level statement is a block of one line.
        ({"anchor_line": 1}, 1, 1),
    ],
)
async def test_indentation_mode_blocks(
    python_file: Path, options: dict[str, Any], first: int, last: int
) -> None:
    output = await read(
        python_file.parent, file_path="greeter.py", mode="indentation", indentation=options
    )
    assert output == ToolOutput(numbered(PYTHON_SOURCE, first, last))


async def test_indentation_anchor_defaults_to_offset_and_limit_caps(python_file: Path) -> None:
    cwd = python_file.parent
    # The class block (4-15) is longer than limit, so the window ends on the anchor.
    output = await read(cwd, file_path="greeter.py", mode="indentation", offset=15, limit=2)
    assert output.text == numbered(PYTHON_SOURCE, 14, 15)


async def test_indentation_keeps_a_closing_brace(tmp_path: Path) -> None:
    (tmp_path / "outer.js").write_text(BRACE_SOURCE)
    inner = await read(
        tmp_path, file_path="outer.js", mode="indentation", indentation={"anchor_line": 4}
    )
    assert inner.text == numbered(BRACE_SOURCE, 1, 7)
    nearest = await read(
        tmp_path,
        file_path="outer.js",
        mode="indentation",
        indentation={"anchor_line": 4, "max_levels": 1},
    )
    assert nearest.text == numbered(BRACE_SOURCE, 3, 5)


async def test_indentation_anchor_past_the_end_fails(python_file: Path) -> None:
    output = await read(
        python_file.parent,
        file_path="greeter.py",
        mode="indentation",
        indentation={"anchor_line": 40},
    )
    assert output == ToolOutput("anchor_line 40 is past the end of the file (19 lines)", False)
