"""apply_patch and the protected paths, and writes that never follow a symlink.

The protected names (`.git`, `.codex`, `.agents`, `.aws` in a writable root, what an existing
one resolves to, a `gitdir:` target) are the sandbox's own list; a patch touching them is
rejected however it names them: directly, through `..`, through a symlink, as a move target.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pycodex.apply_patch import PatchApplyError, PathNotWritableError, apply_patch_text
from pycodex.apply_patch.errors import ProtectedPathError
from pycodex.apply_patch.parser import parse_patch
from pycodex.apply_patch.roots import resolve_targets
from pycodex.execution.sandbox_roots import PROTECTED_NAMES
from support import symlink_race


def _patch(*body: str) -> str:
    return "\n".join(("*** Begin Patch", *body, "*** End Patch")) + "\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".codex").mkdir()
    (root / ".codex" / "config.toml").write_text('model = "original"\n')
    (root / "notes.txt").write_text("note\n")
    (root / "sub").mkdir()
    (root / "git-alias").symlink_to(root / ".git", target_is_directory=True)
    (tmp_path / "outside").mkdir()
    return root


def _untouched(workspace: Path) -> None:
    assert sorted(os.listdir(workspace / ".git" / "hooks")) == []
    assert (workspace / ".git" / "config").read_text() == "[core]\n"
    assert (workspace / ".codex" / "config.toml").read_text() == 'model = "original"\n'
    assert (workspace / "notes.txt").read_text() == "note\n"
    assert not (workspace / ".agents").exists()
    assert not (workspace / ".aws").exists()


REJECTED = {
    "git-hook": ("*** Add File: .git/hooks/pre-commit", "+#!/bin/sh", "+evil"),
    "git-config": ("*** Update File: .git/config", "@@", " [core]", "+\tfsmonitor = evil"),
    "codex-config": ("*** Update File: .codex/config.toml", '-model = "original"', '+model = "x"'),
    "agents-missing": ("*** Add File: .agents/skills/evil/SKILL.md", "+evil"),
    "aws-missing": ("*** Add File: .aws/config", "+[default]"),
    "through-dotdot": ("*** Add File: sub/../.git/hooks/post-checkout", "+evil"),
    "through-symlink": ("*** Add File: git-alias/hooks/pre-push", "+evil"),
    "move-into-git": (
        "*** Update File: notes.txt",
        "*** Move to: .git/hooks/pre-commit",
        "@@",
        "-note",
        "+evil",
    ),
    "move-into-agents": (
        "*** Update File: notes.txt",
        "*** Move to: .agents/skills/x/SKILL.md",
        "@@",
        "-note",
        "+evil",
    ),
    "delete-git-dir-file": ("*** Delete File: .git/config",),
}


@pytest.mark.parametrize("body", REJECTED.values(), ids=REJECTED.keys())
def test_patches_touching_protected_paths_are_rejected(workspace: Path, body: tuple[str]) -> None:
    with pytest.raises(ProtectedPathError) as caught:
        apply_patch_text(_patch(*body), workspace, writable_roots=[workspace])
    assert str(caught.value).startswith("patch rejected: ")
    assert "stays read-only" in str(caught.value)
    _untouched(workspace)


def test_the_list_is_the_sandbox_list() -> None:
    assert PROTECTED_NAMES == (".git", ".codex", ".agents", ".aws")


def test_gitdir_target_and_pointer_file_of_a_worktree_are_protected(tmp_path: Path) -> None:
    root, store = tmp_path / "wt", tmp_path / "store"
    root.mkdir()
    (store / "hooks").mkdir(parents=True)
    (root / ".git").write_text("gitdir: ../store\n")
    for body in (
        ("*** Add File: ../store/hooks/pre-commit", "+evil"),
        ("*** Delete File: .git",),
        ("*** Add File: .git", "+gitdir: /tmp/elsewhere"),
    ):
        with pytest.raises(PathNotWritableError):
            apply_patch_text(_patch(*body), root, writable_roots=[root, tmp_path])
    assert (root / ".git").read_text() == "gitdir: ../store\n"
    assert list((store / "hooks").iterdir()) == []


def test_names_that_only_look_alike_are_ordinary_files(workspace: Path) -> None:
    text = _patch(
        "*** Add File: .github/workflows/ci.yml", "+on: push",
        "*** Add File: .gitignore", "+build/",
        "*** Add File: sub/.codex-notes", "+fine",
    )  # fmt: skip
    result = apply_patch_text(text, workspace, writable_roots=[workspace])
    assert result.added == [".github/workflows/ci.yml", ".gitignore", "sub/.codex-notes"]


def test_without_roots_protected_paths_are_written(workspace: Path) -> None:
    # danger-full-access, or a patch the user allowed: nothing is checked.
    apply_patch_text(_patch("*** Add File: .git/hooks/pre-commit", "+ok"), workspace, None)
    assert (workspace / ".git/hooks/pre-commit").read_text() == "ok\n"


def test_a_symlink_swapped_in_after_the_check_is_not_followed(workspace: Path) -> None:
    # The gap between check and write, made deterministic: resolve the targets while `sub` is a
    # real directory, then replace it with a symlink to outside and write with those targets.
    outside = workspace.parent / "outside"
    text = _patch(
        "*** Update File: notes.txt", "-note", "+changed", "*** Add File: sub/x.txt", "+x"
    )
    targets = resolve_targets(parse_patch(text), workspace)
    (workspace / "sub").rmdir()
    (workspace / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PatchApplyError, match="symbolic link"):
        apply_patch_text(text, workspace, [workspace], targets=targets)
    assert os.listdir(outside) == []
    assert (workspace / "notes.txt").read_text() == "note\n"  # restored


def test_a_final_symlink_swapped_in_is_not_followed(workspace: Path) -> None:
    outside = workspace.parent / "outside" / "victim.txt"
    outside.write_text("victim\n")
    text = _patch("*** Update File: notes.txt", "-note", "+changed")
    targets = resolve_targets(parse_patch(text), workspace)
    (workspace / "notes.txt").unlink()
    (workspace / "notes.txt").symlink_to(outside)
    with pytest.raises(PatchApplyError):
        apply_patch_text(text, workspace, [workspace], targets=targets)
    assert outside.read_text() == "victim\n"


def test_a_fifo_is_refused_instead_of_blocking(workspace: Path) -> None:
    os.mkfifo(workspace / "pipe")
    with pytest.raises(PatchApplyError, match="pipe"):
        apply_patch_text(_patch("*** Update File: pipe", "-a", "+b"), workspace, [workspace])
    with pytest.raises(PatchApplyError, match="pipe"):
        apply_patch_text(_patch("*** Add File: pipe", "+b"), workspace, [workspace])


def test_symlinks_inside_the_root_still_work(workspace: Path) -> None:
    (workspace / "real-docs").mkdir()
    (workspace / "real-docs" / "a.md").write_text("a\n")
    (workspace / "docs").symlink_to(workspace / "real-docs", target_is_directory=True)
    text = _patch("*** Update File: docs/a.md", "-a", "+A", "*** Add File: docs/b.md", "+b")
    apply_patch_text(text, workspace, writable_roots=[workspace])
    assert (workspace / "real-docs" / "a.md").read_text() == "A\n"
    assert (workspace / "real-docs" / "b.md").read_text() == "b\n"
    assert (workspace / "docs").is_symlink()


ATTEMPTS = 300


def test_no_patch_lands_outside_while_a_directory_is_swapped_with_a_symlink(
    workspace: Path,
) -> None:
    base, outside = workspace / "race", workspace.parent / "outside" / "race-target"
    symlink_race.prepare(base, outside)
    swapper = subprocess.Popen(
        [sys.executable, "-c", symlink_race.SWAPPER, str(base)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert swapper.stdout is not None
    try:
        assert swapper.stdout.readline() == "ready\n"
        written = 0
        for index in range(ATTEMPTS):
            try:
                apply_patch_text(symlink_race.add_file_patch(index), workspace, [workspace])
                written += 1
            except PatchApplyError:
                pass  # refused at the check, or stopped by a symlink on the way
    finally:
        (base / "stop").touch()
        output, _ = swapper.communicate(timeout=30)
    assert swapper.returncode == 0, output
    assert int(output) > 0  # it really was swapping while the patches were applied
    assert symlink_race.files_under(outside) == []
    # Every patch that succeeded wrote into the real directory, wherever its name now is.
    real = base / "dir" if not (base / "dir").is_symlink() else base / "swap"
    assert len(symlink_race.files_under(real)) == written
