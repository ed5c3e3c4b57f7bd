"""list_dir through the registry, on a real tree in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pycodex.protocol.items import FunctionCall
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import ToolContext, ToolOutput
from pycodex.tools.builtin.list_dir import ListDirTool
from pycodex.tools.registry import ToolRegistry, dispatch


async def list_dir(cwd: Path, **arguments: Any) -> ToolOutput:
    context = ToolContext(
        call_id="call-1", turn_id="turn-1", cwd=cwd, sandbox_policy=SandboxPolicy.read_only()
    )
    call = FunctionCall(name="list_dir", arguments=json.dumps(arguments), call_id="call-1")
    _item, output = await dispatch(ToolRegistry([ListDirTool()]), call, context)
    return output


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src" / "deep").mkdir(parents=True)
    (root / "src" / "main.py").write_text("print()\n")
    (root / "src" / "deep" / "leaf.py").write_text("")
    (root / "empty").mkdir()
    (root / "README.md").write_text("hi\n")
    (root / ".env").write_text("A=1\n")
    (root / "readme-link").symlink_to(root / "README.md")
    (root / "src-link").symlink_to(root / "src")
    return root


async def test_default_depth_lists_two_levels(tree: Path) -> None:
    output = await list_dir(tree.parent, dir_path="project")
    assert output == ToolOutput(
        "\n".join(
            [
                f"Absolute path: {tree}",
                ".env",
                "README.md",
                "empty/",
                "readme-link@",
                "src/",
                "  deep/",
                "  main.py",
                "src-link@",
            ]
        )
    )


async def test_depth_one_and_three(tree: Path) -> None:
    shallow = await list_dir(tree, dir_path=".", depth=1)
    assert shallow.text.splitlines()[1:] == [
        ".env",
        "README.md",
        "empty/",
        "readme-link@",
        "src/",
        "src-link@",
    ]
    deep = await list_dir(tree, dir_path=str(tree / "src"), depth=3)
    assert deep.text == f"Absolute path: {tree / 'src'}\ndeep/\n  leaf.py\nmain.py"


async def test_offset_and_limit_page_the_flattened_listing(tree: Path) -> None:
    page = await list_dir(tree, dir_path=".", offset=5, limit=2)
    assert page.text == f"Absolute path: {tree}\nsrc/\n  deep/\nMore than 2 entries found"
    last = await list_dir(tree, dir_path=".", offset=8, limit=2)
    assert last.text == f"Absolute path: {tree}\nsrc-link@"


async def test_empty_directory_lists_only_its_path(tree: Path) -> None:
    assert (await list_dir(tree, dir_path="empty")).text == f"Absolute path: {tree / 'empty'}"


async def test_errors(tree: Path) -> None:
    assert await list_dir(tree, dir_path="nowhere") == ToolOutput(
        f"directory not found: {tree / 'nowhere'}", success=False
    )
    assert await list_dir(tree, dir_path="README.md") == ToolOutput(
        f"{tree / 'README.md'} is not a directory (use read_file for files)", success=False
    )
    assert await list_dir(tree, dir_path=".", offset=9) == ToolOutput(
        f"offset 9 is past the last entry of {tree}", success=False
    )
    bad_depth = await list_dir(tree, dir_path=".", depth=0)
    assert bad_depth == ToolOutput(
        "invalid arguments for list_dir: depth: expected at least 1, got 0",
        success=False,
    )
