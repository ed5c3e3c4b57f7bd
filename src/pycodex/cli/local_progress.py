"""Showing `pycodex.local`'s progress: a bar on a terminal, plain lines otherwise.

On a terminal each step is one line redrawn in place (`label [#####-----] 48%  512/1066 MiB`),
at most ten times a second; when it ends the line shows how long it took. Elsewhere (CI logs, a
pipe) each step prints a line when it starts, at each quarter of the way when its size is known,
and when it ends.
"""

from __future__ import annotations

import time
from typing import TextIO

_BAR = 24
_REDRAW_S = 0.1


class TerminalProgress:
    def __init__(self, stream: TextIO, *, on_terminal: bool) -> None:
        self.stream = stream
        self.on_terminal = on_terminal
        self.label = ""
        self.total: int | None = None
        self.unit = ""
        self.done = 0
        self.started = 0.0
        self.drawn_at = 0.0
        self.quarter = 0
        self.active = False

    def begin(self, label: str, total: int | None = None, unit: str = "") -> None:
        if self.active:
            self.finish()
        self.label, self.total, self.unit, self.done = label, total, unit, 0
        self.started = time.monotonic()
        self.quarter, self.active = 0, True
        if self.on_terminal:
            self._draw(force=True)
        else:
            self._line(f"{label}...")

    def update(self, done: int, total: int | None = None) -> None:
        if not self.active:
            return
        self.done = done
        if total is not None:
            self.total = total
        if self.on_terminal:
            self._draw()
        elif self.total:
            quarter = min(4, done * 4 // self.total)
            if 0 < quarter < 4 and quarter > self.quarter:
                self.quarter = quarter
                self._line(f"{self.label}: {quarter * 25}%")

    def finish(self, summary: str = "") -> None:
        if not self.active:
            return
        self.active = False
        took = f"{time.monotonic() - self.started:.1f} s"
        tail = f"done ({summary}, {took})" if summary else f"done ({took})"
        if self.on_terminal:
            self.stream.write(f"\r\x1b[2K{self.label}: {tail}\n")
            self.stream.flush()
        else:
            self._line(f"{self.label}: {tail}")

    def note(self, text: str) -> None:
        if self.on_terminal and self.active:
            self.stream.write("\r\x1b[2K")
        self._line(text)
        if self.on_terminal and self.active:
            self._draw(force=True)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.drawn_at < _REDRAW_S:
            return
        self.drawn_at = now
        if self.total:
            share = min(1.0, self.done / self.total)
            filled = int(share * _BAR)
            bar = f" [{'#' * filled}{'-' * (_BAR - filled)}] {share * 100:3.0f}%  {self._amount()}"
        else:
            bar = f"  {now - self.started:.0f} s"
        self.stream.write(f"\r\x1b[2K{self.label}{bar}")
        self.stream.flush()

    def _amount(self) -> str:
        if self.unit == "B":
            return f"{self.done / 2**20:.0f}/{(self.total or 0) / 2**20:.0f} MiB"
        return f"{self.done}/{self.total}"

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
