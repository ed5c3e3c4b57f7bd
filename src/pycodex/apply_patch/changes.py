"""The outcome types of applying a patch: `FileChange` (one planned edit) and `ApplyResult`."""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Sequence
from pathlib import Path

from pycodex._records import dataclass, field

_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


class ChangeKind(enum.StrEnum):
    """What a file operation does to its file."""

    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class FileChange:
    """One file operation with its contents computed: `None` content means "no file".

    `path` and `move_to` are as written in the patch; `target` and `move_target` are absolute.
    """

    kind: ChangeKind
    path: str
    target: Path
    old_content: str | None
    new_content: str | None
    move_to: str | None = None
    move_target: Path | None = None

    @property
    def display_path(self) -> str:
        """The path the file ends up at (the destination of a move)."""
        return self.move_to if self.move_to is not None else self.path

    def unified_diff(self) -> str:
        """A unified diff from the old to the new contents, for showing to a person."""
        old_name = "/dev/null" if self.old_content is None else f"a/{self.path}"
        new_name = "/dev/null" if self.new_content is None else f"b/{self.display_path}"
        return "".join(
            difflib.unified_diff(
                _diff_lines(self.old_content or ""),
                _diff_lines(self.new_content or ""),
                fromfile=old_name,
                tofile=new_name,
            )
        )


def _diff_lines(text: str) -> list[str]:
    # A last line without a newline would run into the next diff line, so give it one.
    return [line if line.endswith("\n") else line + "\n" for line in _LINE.findall(text)]


@dataclass(frozen=True)
class ApplyResult:
    """The paths a patch touched (as written in the patch) and a diff per file for UIs."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)
    changes: tuple[FileChange, ...] = ()

    @classmethod
    def from_changes(cls, changes: Sequence[FileChange]) -> ApplyResult:
        lists: dict[ChangeKind, list[str]] = {kind: [] for kind in ChangeKind}
        diffs: dict[str, str] = {}
        for change in changes:
            shown = change.display_path
            if shown not in lists[change.kind]:
                lists[change.kind].append(shown)
            diffs[shown] = diffs.get(shown, "") + change.unified_diff()
        return cls(
            added=lists[ChangeKind.ADD],
            modified=lists[ChangeKind.UPDATE],
            deleted=lists[ChangeKind.DELETE],
            diffs=diffs,
            changes=tuple(changes),
        )

    def summary(self) -> str:
        """The text the model is shown on success: one `A`/`M`/`D` line per path."""
        lines = ["Success. Updated the following files:\n"]
        lines += [f"A {path}\n" for path in self.added]
        lines += [f"M {path}\n" for path in self.modified]
        lines += [f"D {path}\n" for path in self.deleted]
        return "".join(lines)
