"""Reading one `pycodex exec --json` stream (CONTRACTS.md section 2) into what a result needs.

This is a wire parser: it looks at each event's `type` and ignores what it does not know, so a
newer exec with more event kinds still reads.
"""

from __future__ import annotations

import json
from typing import Any


class ExecTranscript:
    """What a task's exec printed: its thread, last agent message, usage and errors."""

    def __init__(self) -> None:
        self.thread_id: str | None = None
        self.final_message: str | None = None
        self.usage: dict[str, int] | None = None
        self.turn_error: str | None = None
        self.last_error: str | None = None
        self.stray_lines = 0
        self._partial = b""

    def feed(self, data: bytes) -> None:
        """Take the next bytes of stdout (any split); complete lines are read at once."""
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            self.feed_line(line)

    def close(self) -> None:
        """The stream ended: read an unterminated last line."""
        if self._partial.strip():
            self.feed_line(self._partial)
        self._partial = b""

    def feed_line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            event = json.loads(line)
        except ValueError:
            self.stray_lines += 1
            return
        if isinstance(event, dict):
            self._event(event)

    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "thread.started":
            self.thread_id = _str(event.get("thread_id")) or self.thread_id
        elif kind == "item.completed":
            item = event.get("item")
            if isinstance(item, dict) and item.get("type") == "agent_message":
                self.final_message = _str(item.get("text"))
        elif kind == "turn.completed":
            usage = event.get("usage")
            if isinstance(usage, dict):
                self.usage = {k: v for k, v in usage.items() if isinstance(v, int)}
        elif kind == "turn.failed":
            error = event.get("error")
            message = _str(error.get("message")) if isinstance(error, dict) else None
            self.turn_error = message or "the turn failed"
        elif kind == "error":
            self.last_error = _str(event.get("message")) or self.last_error


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
