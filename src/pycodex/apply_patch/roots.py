"""Where a patch may write: resolving patch paths and checking them against writable roots.

The check runs on the parsed patch before any file is read or written. Symlinks in parent
directories are resolved, so a link inside a root that points outside it does not open a way out;
`..` segments are resolved the way the operating system would after those links.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import assert_never

from pycodex.apply_patch.errors import PathNotWritableError
from pycodex.apply_patch.parser import AddFile, DeleteFile, Patch, UpdateFile


def resolve_patch_path(cwd: Path, path: str) -> Path:
    """The absolute path a patch path names: relative paths are taken from `cwd`."""
    given = Path(path)
    return given if given.is_absolute() else cwd / given


def real_location(target: Path, follow_final_link: bool) -> Path:
    """Where a write to `target` lands once every symlink on the way is followed."""
    if target.name in ("", ".."):
        return target.resolve()
    located = target.parent.resolve() / target.name
    if follow_final_link and located.is_symlink():
        return located.resolve()
    return located


def check_writable_roots(patch: Patch, cwd: Path, writable_roots: Sequence[Path]) -> None:
    """Raise `PathNotWritableError` for the first path of `patch` outside every root."""
    roots = [Path(root).resolve() for root in writable_roots]
    for path, follow_final_link in _written_paths(patch):
        located = real_location(resolve_patch_path(cwd, path), follow_final_link)
        if not any(located.is_relative_to(root) for root in roots):
            raise PathNotWritableError(path, str(located), [str(root) for root in roots])


def _written_paths(patch: Patch) -> Iterator[tuple[str, bool]]:
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
