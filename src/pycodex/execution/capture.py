"""Bounded buffers for command output.

A command may print gigabytes; pycodex keeps at most a fixed number of characters of it, split
between the first and the last ones seen, and counts what it dropped. The tail is kept because
that is where errors and results land; the head because that is where a command says what it is.
"""

from __future__ import annotations

import codecs
from collections import deque

from pycodex._records import dataclass

DEFAULT_CAPTURE_LIMIT_CHARS = 1024 * 1024


@dataclass(frozen=True, slots=True)
class CapturedText:
    head: str
    tail: str
    omitted_chars: int

    def joined(self) -> str:
        """Head and tail, with a marker line for the dropped middle when there is one."""
        if not self.omitted_chars:
            return self.head + self.tail
        head = self.head if self.head.endswith("\n") else self.head + "\n"
        return f"{head}…{self.omitted_chars} characters omitted…\n{self.tail}"


class HeadTailText:
    """Appends text, keeping the first `limit // 2` and the last `limit - limit // 2` characters."""

    def __init__(self, limit_chars: int = DEFAULT_CAPTURE_LIMIT_CHARS) -> None:
        if limit_chars < 2:
            raise ValueError("the capture limit must be at least 2 characters")
        self._head_limit = limit_chars // 2
        self._tail_limit = limit_chars - self._head_limit
        self._reset()

    def _reset(self) -> None:
        self._head: list[str] = []
        self._head_len = 0
        self._tail: deque[str] = deque()
        self._tail_len = 0
        self._omitted = 0

    def __len__(self) -> int:
        """Characters appended since the last `take`, dropped ones included."""
        return self._head_len + self._tail_len + self._omitted

    def append(self, text: str) -> None:
        room = self._head_limit - self._head_len
        if room > 0:
            piece = text[:room]
            self._head.append(piece)
            self._head_len += len(piece)
            text = text[room:]
        if text:
            self._tail.append(text)
            self._tail_len += len(text)
            self._trim_tail()

    def _trim_tail(self) -> None:
        excess = self._tail_len - self._tail_limit
        while excess > 0:
            first = self._tail[0]
            if len(first) <= excess:
                self._tail.popleft()
                cut = len(first)
            else:
                self._tail[0] = first[excess:]
                cut = excess
            self._tail_len -= cut
            self._omitted += cut
            excess -= cut

    def take(self) -> CapturedText:
        """Everything kept so far; the buffer starts over empty."""
        captured = CapturedText("".join(self._head), "".join(self._tail), self._omitted)
        self._reset()
        return captured


class Utf8Sink:
    """Decodes a byte stream into a `HeadTailText` (and optionally a second, shared one).

    Decoding is incremental so a character split across two reads survives; invalid bytes become
    U+FFFD instead of failing.
    """

    def __init__(self, target: HeadTailText, also: HeadTailText | None = None) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._targets = (target,) if also is None else (target, also)

    def feed(self, data: bytes) -> None:
        self._emit(self._decoder.decode(data))

    def flush(self) -> None:
        """Emit what an unfinished trailing sequence decodes to; call once at end of stream."""
        self._emit(self._decoder.decode(b"", final=True))

    def _emit(self, text: str) -> None:
        if text:
            for target in self._targets:
                target.append(text)
