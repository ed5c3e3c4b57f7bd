"""Where a patch may write: its paths resolved once, then checked against the roots.

Each path of a patch is resolved to where a write would land, once (`resolve_targets`): symlinks
in its directories are followed, `..` is taken after them as the operating system would, and the
last component is followed too unless the operation removes it (deleting a symlink removes the
link itself). The check, the plan and the writer all use those same canonical paths, and the
writer walks them without following any symlink (`nofollow`), so what was checked is what gets
written.

A path is writable when it lies inside a writable root and outside the paths the sandbox keeps
read-only there: the `PROTECTED_NAMES` (`.git`, `.codex`, `.agents`, `.aws`) directly inside
each root, what an existing one resolves to, and the target of a `gitdir:` file. Unlike the
sandbox, which can only protect what exists, a patch may not create them either.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import assert_never

from pycodex._records import dataclass
from pycodex.apply_patch.errors import PatchApplyError, PathNotWritableError, ProtectedPathError
from pycodex.apply_patch.parser import AddFile, DeleteFile, Patch, UpdateFile
from pycodex.execution.sandbox_roots import PROTECTED_NAMES, protected_paths


def resolve_patch_path(cwd: Path, path: str) -> Path:
    """The absolute path a patch path names: relative paths are taken from `cwd`."""
    given = Path(path)
    return given if given.is_absolute() else cwd / given


def real_location(target: Path, follow_final_link: bool) -> Path:
    """Where a write to `target` lands once every symlink on the way is followed."""
    if target.name in ("", "..", "."):
        return Path(os.path.realpath(target))
    located = Path(os.path.realpath(target.parent)) / target.name
    if follow_final_link and located.is_symlink():
        return Path(os.path.realpath(located))
    return located


@dataclass(frozen=True)
class PatchTargets:
    """Each path of a patch (as written, and whether its last link is followed) → where it lands."""

    located: dict[tuple[str, bool], Path]

    def of(self, path: str, follow_final_link: bool) -> Path:
        return self.located[(path, follow_final_link)]


def resolve_targets(patch: Patch, cwd: Path) -> PatchTargets:
    located: dict[tuple[str, bool], Path] = {}
    for path, follow in written_paths(patch):
        if (path, follow) in located:
            continue
        try:
            located[(path, follow)] = real_location(resolve_patch_path(cwd, path), follow)
        except OSError as error:
            # A link that changes while it is being read (EINVAL from readlink), or worse.
            raise PatchApplyError(
                f"Failed to resolve {path}: {error.strerror or error} (did something change it "
                "while the patch was checked?). No files were changed.",
                path,
            ) from error
    return PatchTargets(located)


def check_targets(targets: PatchTargets, writable_roots: Sequence[Path]) -> None:
    """Raise `PathNotWritableError` for the first target outside every root, or
    `ProtectedPathError` for the first inside a protected path."""
    roots = [Path(os.path.realpath(root)) for root in writable_roots]
    protected = _protected(roots)
    for (path, _follow), located in targets.located.items():
        if _beneath(located, roots) is None:
            raise PathNotWritableError(path, str(located), [str(root) for root in roots], targets)
        shield = _beneath(located, protected)
        if shield is not None:
            raise ProtectedPathError(path, str(located), str(shield), targets)


def _beneath(path: Path, bases: Sequence[Path]) -> Path | None:
    """The first of `bases` that is `path` or one of its ancestors."""
    text = str(path)
    for base in bases:
        prefix = str(base)
        if text == prefix or text.startswith(prefix.rstrip("/") + "/"):
            return base
    return None


def _protected(roots: Sequence[Path]) -> tuple[Path, ...]:
    by_name = [root / name for root in roots for name in PROTECTED_NAMES]
    return (*by_name, *protected_paths(roots))


def written_paths(patch: Patch) -> Iterator[tuple[str, bool]]:
    """Each path the patch writes or removes, and whether a final symlink would be followed."""
    for hunk in patch.hunks:
        match hunk:
            case AddFile(path=path):
                yield path, True
            case DeleteFile(path=path):
                # Deleting a symlink removes the link itself, wherever it points.
                yield path, False
            case UpdateFile(path=path, move_to=move_to):
                # A moved file's source is removed, not written through.
                yield path, move_to is None
                if move_to is not None:
                    yield move_to, True
            case _:
                assert_never(hunk)
