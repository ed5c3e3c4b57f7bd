"""Planning and applying a patch: `plan_patch` (in memory) and `apply_patch_text` (to disk).

Planning reads the files and computes every resulting content before anything is written, so a
chunk that does not fit in the third file leaves the first two untouched. File operations see the
effects of earlier operations in the same patch (an added file can be updated further down).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import assert_never

from pycodex.apply_patch.changes import ApplyResult, ChangeKind, FileChange
from pycodex.apply_patch.errors import PatchApplyError
from pycodex.apply_patch.nofollow import read_regular_file
from pycodex.apply_patch.parser import AddFile, DeleteFile, Hunk, Patch, UpdateFile, parse_patch
from pycodex.apply_patch.roots import PatchTargets, check_targets, resolve_targets
from pycodex.apply_patch.update import apply_chunks
from pycodex.apply_patch.writer import commit_changes


class _PlannedFiles:
    """File contents as they will be once the operations planned so far are written."""

    def __init__(self) -> None:
        self._pending: dict[Path, str | None] = {}

    def record(self, change: FileChange) -> None:
        source = _key(change.target)
        destination = _key(change.move_target or change.target)
        if destination != source:
            self._pending[source] = None
        self._pending[destination] = change.new_content

    def is_directory(self, target: Path) -> bool:
        return _key(target) not in self._pending and target.is_dir()

    def read(self, target: Path, path: str, verb: str, strict: bool = True) -> str:
        """The current text of `target`; `strict=False` tolerates bytes that are not UTF-8."""
        if _key(target) in self._pending:
            content = self._pending[_key(target)]
            if content is None:
                raise PatchApplyError(f"Failed to {verb} {path}: the file does not exist.", path)
            return content
        if target.is_dir():
            raise PatchApplyError(f"Failed to {verb} {path}: it is a directory, not a file.", path)
        try:
            data = read_regular_file(target)
        except FileNotFoundError:
            raise PatchApplyError(
                f"Failed to {verb} {path}: the file does not exist.", path
            ) from None
        except OSError as error:
            raise PatchApplyError(
                f"Failed to {verb} {path}: cannot read it ({error.strerror or error}).", path
            ) from error
        try:
            return data.decode("utf-8", errors="strict" if strict else "replace")
        except UnicodeDecodeError:
            raise PatchApplyError(
                f"Failed to {verb} {path}: it is not valid UTF-8 text, so it cannot be patched.",
                path,
            ) from None


def _key(target: Path) -> Path:
    # Two spellings of one path ("a/../b" and "b") must share one pending entry.
    return Path(os.path.normpath(target))


def plan_patch(patch: Patch, cwd: Path, targets: PatchTargets | None = None) -> list[FileChange]:
    """Compute every file operation's old and new contents without touching the disk.

    `targets` is where each path lands (`roots.resolve_targets`), resolved here when not given.
    """
    base = Path(cwd).absolute()
    located = targets if targets is not None else resolve_targets(patch, base)
    planned = _PlannedFiles()
    changes: list[FileChange] = []
    for hunk in patch.hunks:
        change = _plan_hunk(hunk, located, planned)
        planned.record(change)
        changes.append(change)
    return changes


def _plan_hunk(hunk: Hunk, located: PatchTargets, planned: _PlannedFiles) -> FileChange:
    match hunk:
        case AddFile(path=path, contents=contents):
            target = located.of(path, True)
            if planned.is_directory(target):
                raise PatchApplyError(
                    f"Failed to add {path}: a directory already exists at that path.", path
                )
            return FileChange(ChangeKind.ADD, path, target, None, contents)
        case DeleteFile(path=path):
            target = located.of(path, False)
            old = planned.read(target, path, "delete", strict=False)
            return FileChange(ChangeKind.DELETE, path, target, old, None)
        case UpdateFile():
            return _plan_update(hunk, located, planned)
        case _:
            assert_never(hunk)


def _plan_update(hunk: UpdateFile, located: PatchTargets, planned: _PlannedFiles) -> FileChange:
    target = located.of(hunk.path, hunk.move_to is None)
    old = planned.read(target, hunk.path, "update")
    new = apply_chunks(old, hunk.chunks, hunk.path)
    move_target: Path | None = None
    if hunk.move_to is not None:
        move_target = located.of(hunk.move_to, True)
        if planned.is_directory(move_target):
            raise PatchApplyError(
                f"Failed to move {hunk.path} to {hunk.move_to}: a directory exists there.",
                hunk.path,
            )
    return FileChange(ChangeKind.UPDATE, hunk.path, target, old, new, hunk.move_to, move_target)


def apply_patch_text(
    text: str,
    cwd: Path,
    writable_roots: Sequence[Path] | None = None,
    *,
    targets: PatchTargets | None = None,
) -> ApplyResult:
    """Parse `text` and apply it under `cwd`, all or nothing.

    With `writable_roots`, any path resolving outside all of them, or into a path the sandbox
    keeps read-only there (`.git`, `.codex`, `.agents`, `.aws`), is refused before a file is read
    or written. `targets` pins where each path lands (from a `PathNotWritableError` the user
    then allowed); by default the paths are resolved now. Raises `PatchParseError` or
    `PatchApplyError`; on success the result's `summary()` is what the model should be told.
    """
    patch = parse_patch(text)
    base = Path(cwd).absolute()
    located = targets if targets is not None else resolve_targets(patch, base)
    if writable_roots is not None:
        check_targets(located, writable_roots)
    changes = plan_patch(patch, base, located)
    commit_changes(changes)
    return ApplyResult.from_changes(changes)
