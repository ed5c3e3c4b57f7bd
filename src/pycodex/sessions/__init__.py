"""Session files (layer L2): rollout recorder and reader.

A session ("thread") is recorded as an append-only JSONL rollout file under
`$CODEX_HOME/sessions/YYYY/MM/DD/`, in the format of Codex CLI (see docs/sessions.md).

- `ids`: UUIDv7 thread ids (`new_thread_id`, `timestamp_of`).
- `paths`: where rollout files live and how record timestamps are written.
- `recorder`: `RolloutRecorder`, the append-only writer (lazy creation, one write per line,
  writes off the event loop).
- `reader`: `read_rollout`, a linear, tolerant fold of a file into a `RolloutHistory`.
- `listing`: `list_sessions`, `find_session`, `latest_session` for resume and pickers.
- `errors`: `SessionError` and its subclasses.

Payloads are plain JSON dicts here; the engine converts them to and from the protocol models.
"""

from typing import TYPE_CHECKING

from pycodex._lazy import lazy_attributes

if TYPE_CHECKING:
    from pycodex.sessions.errors import RolloutWriteError, SessionError, SessionNotFoundError
    from pycodex.sessions.ids import is_uuid7, new_thread_id, timestamp_of
    from pycodex.sessions.listing import (
        SessionSummary,
        find_session,
        latest_session,
        list_sessions,
        rollout_files_newest_first,
    )
    from pycodex.sessions.paths import format_timestamp, rollout_path, sessions_root
    from pycodex.sessions.reader import RolloutHistory, parse_rollout, read_rollout
    from pycodex.sessions.recorder import RecordType, RolloutRecorder, encode_record

# Loaded on first use: a new session needs only the recorder, not the reader or the listing.
_EXPORTS = {
    "RolloutWriteError": "pycodex.sessions.errors",
    "SessionError": "pycodex.sessions.errors",
    "SessionNotFoundError": "pycodex.sessions.errors",
    "is_uuid7": "pycodex.sessions.ids",
    "new_thread_id": "pycodex.sessions.ids",
    "timestamp_of": "pycodex.sessions.ids",
    "SessionSummary": "pycodex.sessions.listing",
    "find_session": "pycodex.sessions.listing",
    "latest_session": "pycodex.sessions.listing",
    "list_sessions": "pycodex.sessions.listing",
    "rollout_files_newest_first": "pycodex.sessions.listing",
    "format_timestamp": "pycodex.sessions.paths",
    "rollout_path": "pycodex.sessions.paths",
    "sessions_root": "pycodex.sessions.paths",
    "RolloutHistory": "pycodex.sessions.reader",
    "parse_rollout": "pycodex.sessions.reader",
    "read_rollout": "pycodex.sessions.reader",
    "RecordType": "pycodex.sessions.recorder",
    "RolloutRecorder": "pycodex.sessions.recorder",
    "encode_record": "pycodex.sessions.recorder",
}

__all__ = [
    "RecordType",
    "RolloutHistory",
    "RolloutRecorder",
    "RolloutWriteError",
    "SessionError",
    "SessionNotFoundError",
    "SessionSummary",
    "encode_record",
    "find_session",
    "format_timestamp",
    "is_uuid7",
    "latest_session",
    "list_sessions",
    "new_thread_id",
    "parse_rollout",
    "read_rollout",
    "rollout_files_newest_first",
    "rollout_path",
    "sessions_root",
    "timestamp_of",
]

__getattr__ = lazy_attributes(__name__, _EXPORTS)
