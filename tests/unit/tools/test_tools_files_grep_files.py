"""grep_files through the registry: ripgrep and the Python fallback must answer alike."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pycodex.protocol.items import FunctionCall
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import ToolContext, ToolOutput
from pycodex.tools.builtin.grep_files import GrepFilesTool
from pycodex.tools.registry import ToolRegistry, dispatch

ENGINES = [
    pytest.param(False, id="python-fallback"),
    pytest.param(
        True,
        id="ripgrep",
        marks=pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep (rg) not installed"),
    ),
]


async def grep(tool: GrepFilesTool, cwd: Path, **arguments: Any) -> ToolOutput:
    context = ToolContext(
        call_id="call-1", turn_id="turn-1", cwd=cwd, sandbox_policy=SandboxPolicy.read_only()
    )
    call = FunctionCall(name="grep_files", arguments=json.dumps(arguments), call_id="call-1")
    _item, output = await dispatch(ToolRegistry([tool]), call, context)
    return output


def write(path: Path, content: str | bytes, mtime: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    os.utime(path, (mtime, mtime))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root / "old.py", "def handler():\n    pass\n", 1_000)
    write(root / "mid.txt", "x = 1\nhandler = 2\n", 2_000)
    write(root / "pkg" / "new.py", "call(handler)\n", 3_000)
    write(root / "pkg" / "other.py", "nothing here\n", 4_000)
    # Everything below is skipped by both engines: VCS data, hidden files, binaries, links.
    write(root / ".git" / "config", "handler\n", 5_000)
    write(root / ".cache" / "hit.py", "handler\n", 5_000)
    write(root / ".hidden.py", "handler\n", 5_000)
    write(root / "data.bin", b"\x00\x01handler\n", 5_000)
    (root / "alias.py").symlink_to(root / "old.py")
    (root / "pkg-link").symlink_to(root / "pkg")
    return root


@pytest.mark.parametrize("use_ripgrep", ENGINES)
async def test_matching_files_newest_first(tree: Path, use_ripgrep: bool) -> None:
    tool = GrepFilesTool(use_ripgrep=use_ripgrep)
    # Touch the directory so a per-directory sort would put pkg's files first.
    os.utime(tree / "pkg", (9_000, 9_000))
    write(tree / "top.md", "handler\n", 3_500)
    output = await grep(tool, tree, pattern="handler")
    expected = [tree / "top.md", tree / "pkg" / "new.py", tree / "mid.txt", tree / "old.py"]
    assert output == ToolOutput("\n".join(str(path) for path in expected))


@pytest.mark.parametrize("use_ripgrep", ENGINES)
@pytest.mark.parametrize(
    ("arguments", "relative"),
    [
        # A glob that names a hidden file takes it, as ripgrep does; hidden dirs stay skipped.
        ({"include": "*.py"}, [".hidden.py", "pkg/new.py", "old.py"]),
        ({"include": "*.{txt,md}"}, ["mid.txt"]),
        ({"include": "pkg/*.py"}, ["pkg/new.py"]),
        ({"include": "!pkg"}, ["mid.txt", "old.py"]),
        ({"path": "pkg"}, ["pkg/new.py"]),
        ({"path": "old.py", "include": "*.txt"}, ["old.py"]),
        ({"limit": 2}, ["pkg/new.py", "mid.txt"]),
        ({"pattern": "^def "}, ["old.py"]),
        ({"pattern": r"handler\s*=\s*\d"}, ["mid.txt"]),
    ],
)
async def test_filters(
    tree: Path, use_ripgrep: bool, arguments: dict[str, Any], relative: list[str]
) -> None:
    tool = GrepFilesTool(use_ripgrep=use_ripgrep)
    output = await grep(tool, tree, **({"pattern": "handler"} | arguments))
    assert output.text == "\n".join(str(tree / path) for path in relative)


@pytest.mark.parametrize("use_ripgrep", ENGINES)
async def test_no_matches(tree: Path, use_ripgrep: bool) -> None:
    output = await grep(GrepFilesTool(use_ripgrep=use_ripgrep), tree, pattern="absent_word")
    assert output == ToolOutput("No matches found.")


@pytest.mark.parametrize("use_ripgrep", ENGINES)
async def test_bad_regex_and_missing_path_fail(tree: Path, use_ripgrep: bool) -> None:
    tool = GrepFilesTool(use_ripgrep=use_ripgrep)
    bad = await grep(tool, tree, pattern="(unclosed")
    assert not bad.success
    assert "\n" not in bad.text
    assert bad.text.startswith(("invalid regex '(unclosed'", "grep_files failed: regex parse"))
    missing = await grep(tool, tree, pattern="x", path="nowhere")
    assert missing == ToolOutput(f"path not found: {tree / 'nowhere'}", success=False)


async def test_without_rg_on_path_the_default_falls_back(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tree / "no-binaries-here"))
    output = await grep(GrepFilesTool(), tree, pattern="handler", include="*.py")
    assert output.text == "\n".join(
        str(tree / name) for name in (".hidden.py", "pkg/new.py", "old.py")
    )
    forced = await grep(GrepFilesTool(use_ripgrep=True), tree, pattern="handler")
    assert forced == ToolOutput(
        "grep_files was set to use ripgrep, but `rg` is not installed", success=False
    )


async def test_empty_pattern_is_rejected(tree: Path) -> None:
    output = await grep(GrepFilesTool(use_ripgrep=False), tree, pattern="")
    assert output == ToolOutput(
        "invalid arguments for grep_files: pattern: expected at least 1 character, got 0",
        success=False,
    )
