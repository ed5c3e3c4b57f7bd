"""Where rollout files live and how their timestamps are written.

Layout (the same as Codex CLI, so either tool finds the other's sessions):

    $CODEX_HOME/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDTHH-MM-SS-<thread_id>.jsonl

The directory parts and the file-name stamp use the machine's LOCAL time, as upstream does (it
takes `OffsetDateTime::now_local()`); colons become dashes so the name is valid on every
filesystem. Timestamps INSIDE the file are UTC with milliseconds and a trailing `Z`
(`2025-06-01T10:00:00.123Z`), upstream's `[year]-[month]-[day]T[hour]:[minute]:[second].
[subsecond digits:3]Z`.

Naive datetimes are taken to be local time, as `datetime.astimezone` does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

SESSIONS_SUBDIR = "sessions"

_FILE_NAME = re.compile(
    r"^rollout-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-"
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\.jsonl$"
)


def sessions_root(codex_home: Path) -> Path:
    """The directory holding all dated session folders."""
    return codex_home / SESSIONS_SUBDIR


def rollout_path(codex_home: Path, thread_id: str, started_at: datetime) -> Path:
    """The rollout file of a thread started at `started_at` (placed by local date)."""
    local = started_at.astimezone()
    stamp = local.strftime("%Y-%m-%dT%H-%M-%S")
    day_dir = sessions_root(codex_home) / f"{local.year:04d}" / f"{local.month:02d}"
    return day_dir / f"{local.day:02d}" / f"rollout-{stamp}-{thread_id}.jsonl"


def format_timestamp(dt: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and `Z`, as in every rollout record."""
    utc = dt.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime | None:
    """Read a record timestamp back (any ISO-8601 form); None when it is not one."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_rollout_file_name(name: str) -> tuple[datetime, str] | None:
    """Split a rollout file name into its (local, naive) start time and thread id."""
    match = _FILE_NAME.match(name)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    try:
        started = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return started, match.group(7).lower()
