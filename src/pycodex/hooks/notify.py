"""The legacy `notify` program: `notify = ["prog", "arg"]` runs `prog arg <JSON>` after each turn.

Fire and forget: the program is spawned in its own session with no standard streams of ours
(its output cannot mix into `exec --json`, and a program that outlives us holds none of our
pipes), and a daemon thread reaps it, so it never becomes a zombie while we run and never delays
our exit. It runs whether or not hooks are trusted or enabled.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from pycodex._records import dataclass


@dataclass(frozen=True)
class TurnNotice:
    """What the program is told about a finished turn (keys and order as upstream sends them)."""

    thread_id: str
    turn_id: str
    cwd: Path
    client: str
    input_messages: tuple[str, ...]
    last_assistant_message: str | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": "agent-turn-complete",
                "thread-id": self.thread_id,
                "turn-id": self.turn_id,
                "cwd": str(self.cwd),
                "client": self.client,
                "input-messages": list(self.input_messages),
                "last-assistant-message": self.last_assistant_message,
            },
            ensure_ascii=False,
        )


@dataclass(frozen=True)
class NotifyStarted:
    pid: int
    # Waits for the program and so reaps it; a daemon, never waited for by us.
    reaper: threading.Thread


def notify(argv: Sequence[str], notice: TurnNotice) -> NotifyStarted:
    """Start the program. Raises `OSError` when it cannot start."""
    process = subprocess.Popen(
        [*argv, notice.to_json()],
        cwd=notice.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    reaper = threading.Thread(target=process.wait, name=f"notify-{process.pid}", daemon=True)
    reaper.start()
    return NotifyStarted(process.pid, reaper)
