"""The trajectory dump: one JSON line per answered `POST /responses`, for training on rollouts.

Each line holds the request body as the client sent it, the response's id, status, output items,
usage and error, and timing (start time, time to the first event, total duration, downstream
attempts). Request headers are never written, so no credential reaches the file. The file is
created mode 0600 (it holds whole conversations); lines are appended in a worker thread, one
`write` each, so concurrent responses and server processes never interleave within a line.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.server.private_files import open_private_append


@dataclass(frozen=True, slots=True)
class TrajectoryRecord:
    request: dict[str, Any]
    response: dict[str, Any]
    """The terminal response object (id, status, output, usage, error)."""
    started_at: float
    first_event_ms: float | None
    duration_ms: float
    attempts: int

    def to_json(self) -> str:
        response = self.response
        line = {
            "timestamp": self.started_at,
            "response_id": response.get("id"),
            "status": response.get("status"),
            "request": self.request,
            "output": response.get("output", []),
            "usage": response.get("usage"),
            "error": response.get("error"),
            "timing": {
                "first_event_ms": _rounded(self.first_event_ms),
                "duration_ms": _rounded(self.duration_ms),
                "downstream_attempts": self.attempts,
            },
        }
        return json.dumps(line, ensure_ascii=False)


class TrajectoryLog:
    """Appends whole lines with single `write` calls on an `O_APPEND` descriptor, so lines from
    several server processes (`--workers`) land one after another, never inside each other."""

    def __init__(self, path: Path) -> None:
        self._fd = open_private_append(path)
        self._lock = asyncio.Lock()

    async def append(self, record: TrajectoryRecord) -> None:
        line = (record.to_json() + "\n").encode("utf-8")
        async with self._lock:
            await asyncio.to_thread(self._write, line)

    async def close(self) -> None:
        async with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _write(self, line: bytes) -> None:
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
