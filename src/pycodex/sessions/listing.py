"""Finding recorded sessions: listing for pickers, lookup by id for `resume`.

All functions here do blocking file I/O; async callers run them with `asyncio.to_thread`.

`list_sessions` walks `sessions/YYYY/MM/DD` newest first and reads only the head of each file: the
session_meta and the first real user message. A message is real unless it is context the agent
injected (`protocol.context_markers`: the environment context, AGENTS.md instructions, a
compaction summary...).
Sessions without session_meta or without a real user message are hidden, like upstream's picker.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.protocol.context_markers import is_injected_context
from pycodex.sessions.errors import SessionNotFoundError
from pycodex.sessions.paths import parse_rollout_file_name, parse_timestamp, sessions_root

# How much of a file's head is read to find the first user message; the session_meta alone can
# be tens of kilobytes because it carries the base instructions.
HEAD_MAX_RECORDS = 64
HEAD_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_SCAN = 10_000

_ID_QUERY = re.compile(r"^[0-9a-f-]+$")


@dataclass(frozen=True)
class SessionSummary:
    """One recorded session as a picker shows it."""

    thread_id: str
    path: Path
    started_at: datetime
    cwd: Path | None
    first_user_message: str
    size_bytes: int
    updated_at: datetime
    # As the session_meta records them (None when absent): what app clients filter on.
    session_id: str | None = None
    source: Any = None
    model_provider: str | None = None
    originator: str | None = None
    cli_version: str | None = None


def list_sessions(
    codex_home: Path,
    cwd: Path | None = None,
    limit: int = 50,
    *,
    max_scan: int = DEFAULT_MAX_SCAN,
) -> list[SessionSummary]:
    """Up to `limit` sessions, newest first, optionally only those recorded in `cwd`.

    At most `max_scan` files are opened, so a huge sessions tree cannot stall a picker.
    """
    wanted = _directory_forms(cwd) if cwd is not None else None
    found: list[SessionSummary] = []
    for scanned, path in enumerate(rollout_files_newest_first(codex_home)):
        if len(found) >= limit or scanned >= max_scan:
            break
        summary = summarize_session(path)
        if summary is None:
            continue
        if wanted is not None and (summary.cwd is None or _normalize(summary.cwd) not in wanted):
            continue
        found.append(summary)
    return found


def latest_session(codex_home: Path, cwd: Path | None) -> Path | None:
    """The newest visible session (recorded in `cwd`, when given), for `resume --last`."""
    sessions = list_sessions(codex_home, cwd, limit=1)
    return sessions[0].path if sessions else None


def find_session(codex_home: Path, id_or_prefix: str) -> Path:
    """The rollout file of the thread whose id is, or starts with, `id_or_prefix`.

    Hyphens and case are ignored. Raises SessionNotFoundError when nothing or more than one
    thread matches; when one thread has several files, the newest is returned.
    """
    query = id_or_prefix.strip().lower()
    if not query or _ID_QUERY.match(query) is None:
        raise SessionNotFoundError(id_or_prefix)
    wanted = query.replace("-", "")
    matches: dict[str, Path] = {}
    for path in rollout_files_newest_first(codex_home):
        parsed = parse_rollout_file_name(path.name)
        if parsed is not None and parsed[1].replace("-", "").startswith(wanted):
            matches.setdefault(parsed[1], path)
    if len(matches) == 1:
        return next(iter(matches.values()))
    raise SessionNotFoundError(id_or_prefix, tuple(matches.values()))


def rollout_files_newest_first(codex_home: Path) -> Iterator[Path]:
    """Every rollout file under `sessions/`, newest first (by the stamp in its name)."""
    for year in _numbered_dirs(sessions_root(codex_home), 4):
        for month in _numbered_dirs(year, 2):
            for day in _numbered_dirs(month, 2):
                yield from _rollout_files(day)


def summarize_session(path: Path) -> SessionSummary | None:
    """Summarize one rollout from its head; None when it has no session_meta or user message."""
    try:
        meta, message = _read_head(path)
        stat = path.stat()
    except OSError:
        return None
    if meta is None or message is None:
        return None
    parsed_name = parse_rollout_file_name(path.name)
    thread_id = meta.get("id")
    if not isinstance(thread_id, str):
        if parsed_name is None:
            return None
        thread_id = parsed_name[1]
    started_at = _started_at(meta, parsed_name)
    cwd = meta.get("cwd")
    return SessionSummary(
        thread_id=thread_id,
        path=path,
        started_at=started_at,
        cwd=Path(cwd) if isinstance(cwd, str) else None,
        first_user_message=message,
        size_bytes=stat.st_size,
        updated_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
        session_id=_string(meta.get("session_id")),
        source=meta.get("source"),
        model_provider=_string(meta.get("model_provider")),
        originator=_string(meta.get("originator")),
        cli_version=_string(meta.get("cli_version")),
    )


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _read_head(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    meta: dict[str, Any] | None = None
    budget = HEAD_MAX_BYTES
    with path.open("rb") as file:
        for _ in range(HEAD_MAX_RECORDS):
            raw = file.readline(budget)  # readline(0) is empty: the budget ends the loop
            if not raw:
                break
            budget -= len(raw)
            record = _loads_record(raw)
            if record is None:
                continue
            payload = record.get("payload")
            if not isinstance(payload, dict):
                continue
            if record.get("type") == "session_meta" and meta is None:
                meta = payload
                continue
            message = _real_user_text(record.get("type"), payload)
            if message is not None:
                return meta, message
    return meta, None


def _loads_record(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _real_user_text(record_type: Any, payload: dict[str, Any]) -> str | None:
    if record_type == "event_msg" and payload.get("type") == "user_message":
        message = payload.get("message")
        return message if isinstance(message, str) and _is_real(message) else None
    if record_type != "response_item" or payload.get("type") != "message":
        return None
    if payload.get("role") != "user" or not isinstance(payload.get("content"), list):
        return None
    for part in payload["content"]:
        text = part.get("text") if isinstance(part, dict) else None
        if isinstance(text, str) and part.get("type") == "input_text" and _is_real(text):
            return text
    return None


def _is_real(text: str) -> bool:
    return bool(text.strip()) and not is_injected_context(text)


def _started_at(meta: dict[str, Any], parsed_name: tuple[datetime, str] | None) -> datetime:
    stamp = meta.get("timestamp")
    parsed = parse_timestamp(stamp) if isinstance(stamp, str) else None
    if parsed is not None:
        return parsed
    if parsed_name is not None:
        return parsed_name[0].astimezone(UTC)  # file names carry local time
    return datetime.fromtimestamp(0, tz=UTC)


def _numbered_dirs(parent: Path, width: int) -> list[Path]:
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    dirs = [
        Path(entry.path)
        for entry in entries
        if len(entry.name) == width and entry.name.isdigit() and entry.is_dir()
    ]
    return sorted(dirs, key=lambda path: path.name, reverse=True)


def _rollout_files(day: Path) -> list[Path]:
    try:
        entries = list(os.scandir(day))
    except OSError:
        return []
    # The name is rollout-<local stamp>-<uuidv7>: sorting names sorts by start time.
    names = [entry.name for entry in entries if parse_rollout_file_name(entry.name) is not None]
    return [day / name for name in sorted(names, reverse=True)]


def _directory_forms(cwd: Path) -> frozenset[str]:
    forms = {_normalize(cwd)}
    try:
        forms.add(_normalize(cwd.resolve()))
    except OSError:
        pass
    return frozenset(forms)


def _normalize(path: Path) -> str:
    return os.path.normpath(os.fspath(path))
