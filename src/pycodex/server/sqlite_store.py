"""`SqliteResponseStore`: stored responses in one SQLite file, shared by every server process.

`$CODEX_HOME/serve/responses.sqlite` (mode 0600; SQLite gives its `-wal` and `-shm` files the
same mode). WAL journaling lets readers run beside the one writer, and a busy timeout makes a
process wait for another's write instead of failing, so `serve --workers N` processes share the
file safely. `synchronous=NORMAL`: a commit survives a crash of the server, not a power cut,
which suits a store of conversations the client can always resend.

Each call runs in a worker thread (a slow disk never stalls the event loop's streams), one at a
time per process. A conversation is read with one recursive query that follows parent ids back
to the start or to the nearest compaction. A running total of stored bytes is kept by triggers,
so the size cap costs one row read per write.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from pycodex.server.errors import ServeSetupError
from pycodex.server.private_files import FILE_MODE, touch_private
from pycodex.server.store import (
    BrokenChain,
    EncodedResponse,
    JsonItem,
    StoredResponse,
    StoreLimits,
    fold_conversation,
    with_item_ids,
)

BUSY_TIMEOUT_S = 30.0
_SCHEMA_VERSION = 2
_MAX_CHAIN = 100_000  # a guard against a cycle in a file edited by hand

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS stored_responses (
        id TEXT PRIMARY KEY,
        parent_id TEXT,
        created_at REAL NOT NULL,
        restarts INTEGER NOT NULL,
        input_items TEXT NOT NULL,
        output_items TEXT NOT NULL,
        envelope TEXT NOT NULL,
        size INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS stored_responses_by_age ON stored_responses (created_at)",
    """CREATE TABLE IF NOT EXISTS stored_bytes (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        total INTEGER NOT NULL
    )""",
    "INSERT OR IGNORE INTO stored_bytes VALUES (0, 0)",
    """CREATE TRIGGER IF NOT EXISTS stored_responses_added AFTER INSERT ON stored_responses
    BEGIN UPDATE stored_bytes SET total = total + NEW.size WHERE id = 0; END""",
    """CREATE TRIGGER IF NOT EXISTS stored_responses_removed AFTER DELETE ON stored_responses
    BEGIN UPDATE stored_bytes SET total = total - OLD.size WHERE id = 0; END""",
)
_INSERT = "INSERT INTO stored_responses VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

_CHAIN = """
WITH RECURSIVE chain(id, parent_id, restarts, input_items, output_items, depth) AS (
    SELECT id, parent_id, restarts, input_items, output_items, 0
    FROM stored_responses WHERE id = :id AND created_at >= :cutoff
    UNION ALL
    SELECT s.id, s.parent_id, s.restarts, s.input_items, s.output_items, chain.depth + 1
    FROM stored_responses AS s JOIN chain ON s.id = chain.parent_id
    WHERE chain.restarts = 0 AND s.created_at >= :cutoff AND chain.depth < :max_chain
)
SELECT parent_id, restarts, input_items, output_items FROM chain ORDER BY depth DESC
"""


class SqliteResponseStore:
    def __init__(self, path: Path, limits: StoreLimits | None = None) -> None:
        self._limits = limits or StoreLimits()
        self._lock = threading.Lock()
        try:
            self._db = _open(path)
        except sqlite3.Error as err:
            raise ServeSetupError(f"cannot open the response store {path}: {err}") from None

    async def get(self, response_id: str) -> StoredResponse | None:
        return await asyncio.to_thread(self._get, response_id)

    async def conversation(self, response_id: str) -> list[JsonItem] | None:
        return await asyncio.to_thread(self._conversation, response_id)

    async def put(self, response: StoredResponse) -> None:
        await asyncio.to_thread(self._put, EncodedResponse.of(response))

    async def delete(self, response_id: str) -> bool:
        return await asyncio.to_thread(self._delete, response_id)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _get(self, response_id: str) -> StoredResponse | None:
        query = (
            "SELECT parent_id, created_at, restarts, input_items, output_items, envelope "
            "FROM stored_responses WHERE id = ? AND created_at >= ?"
        )
        with self._lock:
            row = self._db.execute(query, (response_id, self._cutoff())).fetchone()
        if row is None:
            return None
        parent_id, created_at, restarts, input_json, output_json, envelope = row
        encoded = EncodedResponse(
            response_id, parent_id, created_at, bool(restarts), input_json, output_json, envelope
        )
        return encoded.decode()

    def _conversation(self, response_id: str) -> list[JsonItem] | None:
        params = {"id": response_id, "cutoff": self._cutoff(), "max_chain": _MAX_CHAIN}
        with self._lock:
            rows = self._db.execute(_CHAIN, params).fetchall()
        if not rows:
            return None
        first_parent, first_restarts = rows[0][0], rows[0][1]
        if first_parent is not None and not first_restarts:
            raise BrokenChain(first_parent)
        return fold_conversation([(bool(r), i, o) for _, r, i, o in rows])

    def _put(self, entry: EncodedResponse) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(_INSERT, _row(entry))
                self._evict()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _evict(self) -> None:
        """Drop expired responses, then the oldest ones while the store is over its size."""
        self._db.execute("DELETE FROM stored_responses WHERE created_at < ?", (self._cutoff(),))
        (total,) = self._db.execute("SELECT total FROM stored_bytes WHERE id = 0").fetchone()
        excess = total - self._limits.max_bytes
        if excess <= 0:
            return
        # Free a tenth of the cap beyond the excess, so the next writes do not evict again.
        wanted = excess + self._limits.max_bytes // 10
        doomed: list[tuple[str]] = []
        rows = self._db.execute("SELECT id, size FROM stored_responses ORDER BY created_at")
        for response_id, size in rows:
            doomed.append((response_id,))
            wanted -= size
            if wanted <= 0:
                break
        self._db.executemany("DELETE FROM stored_responses WHERE id = ?", doomed)

    def _delete(self, response_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM stored_responses WHERE id = ?", (response_id,))
        return cursor.rowcount > 0

    def _close(self) -> None:
        with self._lock:
            self._db.close()

    def _cutoff(self) -> float:
        return time.time() - self._limits.max_age_s


def _open(path: Path) -> sqlite3.Connection:
    touch_private(path)
    _restrict(path)
    # Worker threads differ from call to call; the store's lock gives the connection one user at
    # a time, which is what `check_same_thread` would otherwise insist on.
    db = sqlite3.connect(
        path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("BEGIN IMMEDIATE")
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version < _SCHEMA_VERSION:
            for statement in _SCHEMA:
                db.execute(statement)
            _migrate_v1(db)
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        db.close()
        raise
    return db


def _restrict(path: Path) -> None:
    """Stores made before files were created private: take group and world access away."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        try:
            mode = os.stat(path.with_name(name)).st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(path.with_name(name), mode & FILE_MODE)


def _migrate_v1(db: sqlite3.Connection) -> None:
    """The first schema kept each response's whole conversation as its input: keep those rows
    as conversations of their own (no parent), their items given ids."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "responses" not in tables:
        return
    for response_id, created_at, model, input_json, output_json in db.execute(
        "SELECT id, created_at, model, input_items, output_items FROM responses"
    ).fetchall():
        items = with_item_ids(json.loads(input_json))
        envelope = {
            "id": response_id,
            "object": "response",
            "created_at": created_at,
            "model": model,
            "status": "completed",
        }
        encoded = EncodedResponse(
            response_id,
            None,
            float(created_at),
            False,
            json.dumps(items, ensure_ascii=False),
            output_json,
            json.dumps(envelope),
        )
        db.execute(_INSERT, _row(encoded))
    db.execute("DROP TABLE responses")


def _row(entry: EncodedResponse) -> tuple[object, ...]:
    return (
        entry.response_id,
        entry.parent_id,
        entry.created_at,
        int(entry.restarts),
        entry.input_json,
        entry.output_json,
        entry.envelope_json,
        entry.size,
    )
