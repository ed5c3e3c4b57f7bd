"""`commit_changes`: writing planned file changes to disk all-or-nothing.

Every touched path is snapshotted first; if any write or removal fails, the paths already handled
are put back as they were and directories created on the way are removed again. The targets are
canonical paths (see `roots`), and every operation goes through `nofollow`, so a symlink that
appears on the way after the paths were checked stops the write instead of redirecting it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pycodex._records import dataclass, field
from pycodex.apply_patch import nofollow
from pycodex.apply_patch.changes import ChangeKind, FileChange
from pycodex.apply_patch.errors import PatchApplyError


@dataclass
class _Journal:
    """What the commit has done so far, in order, so it can be undone."""

    walk: nofollow.DirectoryWalk
    snapshots: dict[Path, nofollow.FileState] = field(default_factory=dict)
    handled: list[Path] = field(default_factory=list)


def final_contents(changes: Sequence[FileChange]) -> dict[Path, str | None]:
    """The content each touched path must end with (None: absent), in first-touched order."""
    final: dict[Path, str | None] = {}
    for change in changes:
        match change.kind:
            case ChangeKind.ADD | ChangeKind.DELETE:
                final[change.target] = change.new_content
            case ChangeKind.UPDATE:
                destination = change.move_target or change.target
                if destination != change.target:
                    final[change.target] = None
                final[destination] = change.new_content
    return final


def commit_changes(changes: Sequence[FileChange]) -> None:
    """Write `changes` to disk; on failure restore every touched path and raise PatchApplyError."""
    with nofollow.DirectoryWalk() as walk:
        _commit(changes, _Journal(walk))


def _commit(changes: Sequence[FileChange], journal: _Journal) -> None:
    final = final_contents(changes)
    names = _patch_names(changes)
    for path in final:
        try:
            journal.snapshots[path] = journal.walk.read_state(path)
        except OSError as error:
            raise PatchApplyError(
                f"Failed to read {names[path]} before writing it: {error.strerror or error}. "
                "No files were changed.",
                names[path],
            ) from error
    for path, content in final.items():
        journal.handled.append(path)
        try:
            _put(path, content, journal.walk)
        except OSError as error:
            _undo(journal)
            raise PatchApplyError(
                f"Failed to write {names[path]}: {error.strerror or error}. The files already "
                "written were restored; no files were changed.",
                names[path],
            ) from error


def _patch_names(changes: Sequence[FileChange]) -> dict[Path, str]:
    """Each absolute target mapped back to the path as the patch spelled it."""
    names: dict[Path, str] = {}
    for change in changes:
        names[change.target] = change.path
        if change.move_target is not None and change.move_to is not None:
            names[change.move_target] = change.move_to
    return names


def _put(path: Path, content: str | None, walk: nofollow.DirectoryWalk) -> None:
    if content is None:
        walk.remove_file(path)
        return
    walk.write_file(path, content.encode("utf-8"))


def _undo(journal: _Journal) -> None:
    """Best effort: restoring one path must not stop the others from being restored."""
    walk = journal.walk
    for path in reversed(journal.handled):
        try:
            walk.restore_state(path, journal.snapshots[path])
        except OSError:
            continue
    for directory in reversed(walk.created):
        try:
            walk.remove_directory(directory)
        except OSError:
            continue
