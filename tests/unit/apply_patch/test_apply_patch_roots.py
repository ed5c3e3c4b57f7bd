"""Writable roots: paths that resolve outside them are refused before anything is written."""

from pathlib import Path

import pytest

from pycodex.apply_patch import PathNotWritableError, apply_patch_text


def _patch(*body: str) -> str:
    return "\n".join(("*** Begin Patch", *body, "*** End Patch")) + "\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (root / "inside.txt").write_text("inside\n")
    return root


def test_paths_inside_the_root_are_written(workspace: Path) -> None:
    text = _patch(
        "*** Add File: sub/new.txt", "+ok", "*** Update File: inside.txt", "-inside", "+in"
    )
    result = apply_patch_text(text, workspace, writable_roots=[workspace])
    assert result.added == ["sub/new.txt"]
    assert (workspace / "sub/new.txt").read_text() == "ok\n"


def test_dot_dot_escape_is_refused_before_any_write(workspace: Path) -> None:
    text = _patch(
        "*** Update File: inside.txt",
        "-inside",
        "+changed",
        "*** Add File: ../outside/evil.txt",
        "+evil",
    )
    with pytest.raises(PathNotWritableError) as caught:
        apply_patch_text(text, workspace, writable_roots=[workspace])
    assert caught.value.path == "../outside/evil.txt"
    assert str(caught.value).startswith("patch rejected: ../outside/evil.txt resolves to ")
    assert (workspace / "inside.txt").read_text() == "inside\n"
    assert not (workspace.parent / "outside/evil.txt").exists()


def test_symlinked_directory_escape_is_refused(workspace: Path) -> None:
    (workspace / "link").symlink_to(workspace.parent / "outside", target_is_directory=True)
    with pytest.raises(PathNotWritableError):
        apply_patch_text(_patch("*** Add File: link/evil.txt", "+x"), workspace, [workspace])
    assert not (workspace.parent / "outside/evil.txt").exists()


def test_symlinked_file_pointing_outside_is_refused(workspace: Path) -> None:
    secret = workspace.parent / "outside/secret.txt"
    secret.write_text("secret\n")
    (workspace / "alias.txt").symlink_to(secret)
    text = _patch("*** Update File: alias.txt", "-secret", "+leaked")
    with pytest.raises(PathNotWritableError):
        apply_patch_text(text, workspace, writable_roots=[workspace])
    assert secret.read_text() == "secret\n"


def test_absolute_path_and_move_destination_outside_are_refused(workspace: Path) -> None:
    outside = workspace.parent / "outside"
    with pytest.raises(PathNotWritableError):
        apply_patch_text(_patch(f"*** Add File: {outside / 'a.txt'}", "+x"), workspace, [workspace])
    move = _patch(
        "*** Update File: inside.txt", "*** Move to: ../outside/moved.txt", "-inside", "+x"
    )
    with pytest.raises(PathNotWritableError):
        apply_patch_text(move, workspace, writable_roots=[workspace])
    assert (workspace / "inside.txt").read_text() == "inside\n"
    assert not (outside / "moved.txt").exists()


def test_any_of_several_roots_is_enough(workspace: Path) -> None:
    outside = workspace.parent / "outside"
    result = apply_patch_text(
        _patch("*** Add File: ../outside/ok.txt", "+ok"), workspace, [workspace, outside]
    )
    assert result.added == ["../outside/ok.txt"]
    assert (outside / "ok.txt").read_text() == "ok\n"


def test_no_writable_roots_means_nothing_is_writable(workspace: Path) -> None:
    with pytest.raises(PathNotWritableError, match=r"writable roots \(none\)"):
        apply_patch_text(_patch("*** Add File: a.txt", "+x"), workspace, writable_roots=[])
