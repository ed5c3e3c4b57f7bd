"""The errors raised by the patch parser and applier.

Hierarchy:

    PatchError                     anything that stopped a patch; its message is meant for the model
    ├── PatchParseError            the text is not a well-formed patch (carries the line number)
    └── PatchApplyError            the patch is well-formed but cannot be applied (carries the path)
        ├── AmbiguousMatchError    a whitespace-tolerant match found several places for a chunk
        └── PathNotWritableError   a target resolves outside the writable roots
            └── ProtectedPathError a target is inside `.git`, `.codex`, `.agents` or `.aws`

Constructors only format messages; they never touch the file system.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pycodex.apply_patch.roots import PatchTargets


class PatchError(Exception):
    """Base of every error this package raises; `str(error)` is ready to show to the model."""


class PatchParseError(PatchError):
    """The patch text does not follow the format; `line_number` is 1-based in the given text."""

    def __init__(self, line_number: int, detail: str) -> None:
        super().__init__(f"invalid patch: line {line_number}: {detail}")
        self.line_number = line_number
        self.detail = detail


class PatchApplyError(PatchError):
    """A well-formed patch that cannot be applied to the files as they are."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class AmbiguousMatchError(PatchApplyError):
    """Raised when a fuzzy match is not unique, since guessing could edit the wrong place."""

    def __init__(self, message: str, path: str | None, positions: Sequence[int]) -> None:
        super().__init__(message, path)
        self.positions = tuple(positions)


class PathNotWritableError(PatchApplyError):
    """A path of the patch resolves outside every writable root.

    `targets` is the resolution the check was made on (a `roots.PatchTargets`), so a patch the
    user then allows is written to exactly the places they were shown.
    """

    def __init__(
        self, path: str, resolved: str, roots: Sequence[str], targets: PatchTargets | None = None
    ) -> None:
        listed = ", ".join(roots) if roots else "none"
        super().__init__(
            f"patch rejected: {path} resolves to {resolved}, which is outside the writable "
            f"roots ({listed}). No files were changed.",
            path,
        )
        self.resolved = resolved
        self.roots = tuple(roots)
        self.targets = targets


class ProtectedPathError(PathNotWritableError):
    """A path of the patch is inside `.git`, `.codex`, `.agents` or `.aws` of a writable root
    (or what one of them points to), which stay read-only as they do for sandboxed commands."""

    def __init__(
        self, path: str, resolved: str, protected: str, targets: PatchTargets | None = None
    ) -> None:
        PatchApplyError.__init__(
            self,
            f"patch rejected: {path} resolves to {resolved}, inside {protected}, which stays "
            "read-only (version-control and agent metadata: .git, .codex, .agents, .aws). No "
            "files were changed.",
            path,
        )
        self.resolved = resolved
        self.roots = ()
        self.protected = protected
        self.targets = targets
