"""How long-running local-model work reports what it is doing, without printing.

`pycodex.local` runs below the CLI and never writes to the terminal: it calls a `Progress`
(the CLI's draws bars on a terminal and plain lines otherwise). A step is begun with a label and
an optional total, advanced with `update(done)`, and ended with `finish(summary)`.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def begin(self, label: str, total: int | None = None, unit: str = "") -> None:
        """A step starts; `total` in `unit`s ("B" for bytes, "" for plain counts), if known."""

    def update(self, done: int, total: int | None = None) -> None:
        """The current step reached `done` (of `total`, when that became known now)."""

    def finish(self, summary: str = "") -> None:
        """The current step ended; `summary` says how (e.g. "22 parts, 1.04 GiB")."""

    def note(self, text: str) -> None:
        """A one-line remark outside any step."""


class SilentProgress:
    """Hears everything, says nothing: the default for library callers."""

    def begin(self, label: str, total: int | None = None, unit: str = "") -> None:
        return None

    def update(self, done: int, total: int | None = None) -> None:
        return None

    def finish(self, summary: str = "") -> None:
        return None

    def note(self, text: str) -> None:
        return None
