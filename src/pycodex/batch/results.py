"""Result lines: what one task came to, as a `BatchResult` and as one JSON line.

{"id": ..., "status": "completed" | "failed" | "timed_out" | "cancelled",
 "final_message": <text, or the parsed JSON when the task had an output schema>,
 "usage": {<turn.completed usage of exec --json>}, "duration_s": 12.3, "exit_code": 0,
 "error": null, "session_file": "/…/rollout-….jsonl", "thread_id": "…",
 "diff": "<git diff of the working copy>", "attempts": 1, "metadata": <the task's>}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pycodex._records import dataclass

Status = Literal["completed", "failed", "timed_out", "cancelled"]
STATUSES: tuple[Status, ...] = ("completed", "failed", "timed_out", "cancelled")
RETRYABLE: frozenset[str] = frozenset({"failed", "timed_out"})


class ResultLineError(ValueError):
    """A results line that is not a result this module wrote."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    id: str | int
    status: Status
    final_message: Any = None
    usage: Mapping[str, int] | None = None
    duration_s: float = 0.0
    exit_code: int | None = None
    error: str | None = None
    session_file: str | None = None
    thread_id: str | None = None
    diff: str | None = None
    attempts: int = 1
    metadata: Any = None

    @property
    def key(self) -> str:
        return str(self.id)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens of the task's thread (0 when exec reported no usage)."""
        if self.usage is None:
            return 0
        return sum(_count(self.usage.get(name)) for name in ("input_tokens", "output_tokens"))

    def to_wire(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "final_message": self.final_message,
            "usage": dict(self.usage) if self.usage is not None else None,
            "duration_s": round(self.duration_s, 3),
            "exit_code": self.exit_code,
            "error": self.error,
            "session_file": self.session_file,
            "thread_id": self.thread_id,
            "diff": self.diff,
            "attempts": self.attempts,
        }
        if self.metadata is not None:
            line["metadata"] = self.metadata
        return line

    def to_json_line(self) -> str:
        return json.dumps(self.to_wire(), ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_wire(cls, line: Any) -> BatchResult:
        """Read back a result line (raises `ResultLineError` when it is not one)."""
        if not isinstance(line, dict):
            raise ResultLineError("not a JSON object")
        status = line.get("status")
        result_id = line.get("id")
        if status not in STATUSES:
            raise ResultLineError(f"unknown status {status!r}")
        if isinstance(result_id, bool) or not isinstance(result_id, str | int):
            raise ResultLineError("no task id")
        usage = line.get("usage")
        attempts = line.get("attempts")
        return cls(
            id=result_id,
            status=status,
            final_message=line.get("final_message"),
            usage=usage if isinstance(usage, dict) else None,
            duration_s=float(line.get("duration_s") or 0.0),
            exit_code=_optional_int(line.get("exit_code")),
            error=_optional_str(line.get("error")),
            session_file=_optional_str(line.get("session_file")),
            thread_id=_optional_str(line.get("thread_id")),
            diff=_optional_str(line.get("diff")),
            attempts=attempts if isinstance(attempts, int) and attempts > 0 else 1,
            metadata=line.get("metadata"),
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
