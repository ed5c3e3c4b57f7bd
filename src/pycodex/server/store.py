"""Stored responses, so a client can continue a conversation with `previous_response_id`.

A stored response keeps the full input it was answered from (its own previous responses already
folded in) and its output items, so continuing needs one lookup however long the chain is. Two
stores: `MemoryResponseStore` (bounded, lost on exit) and `SqliteResponseStore` (a file under
`$CODEX_HOME/serve/`, read and written off the event loop through `asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

from pycodex._records import dataclass

JsonItem = dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    response_id: str
    created_at: int
    model: str
    input_items: list[JsonItem]
    output_items: list[JsonItem]

    def conversation(self) -> list[JsonItem]:
        """What a follow-up request puts in front of its own input."""
        return [*self.input_items, *self.output_items]


class ResponseStore(Protocol):
    async def get(self, response_id: str) -> StoredResponse | None: ...

    async def put(self, response: StoredResponse) -> None: ...

    async def close(self) -> None: ...


class MemoryResponseStore:
    """Keeps the most recent `max_entries` responses; the oldest go first."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, StoredResponse] = OrderedDict()

    async def get(self, response_id: str) -> StoredResponse | None:
        found = self._entries.get(response_id)
        if found is not None:
            self._entries.move_to_end(response_id)
        return found

    async def put(self, response: StoredResponse) -> None:
        self._entries[response.response_id] = response
        self._entries.move_to_end(response.response_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def close(self) -> None:
        self._entries.clear()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    model TEXT NOT NULL,
    input_items TEXT NOT NULL,
    output_items TEXT NOT NULL
)
"""


class SqliteResponseStore:
    """One SQLite file; each call runs in a worker thread so a slow disk never stalls streams."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Worker threads differ from call to call; the lock gives the connection one user at
        # a time, which is what `check_same_thread` would otherwise insist on.
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    async def get(self, response_id: str) -> StoredResponse | None:
        return await asyncio.to_thread(self._get, response_id)

    async def put(self, response: StoredResponse) -> None:
        await asyncio.to_thread(self._put, response)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _get(self, response_id: str) -> StoredResponse | None:
        with self._lock:
            row = self._db.execute(
                "SELECT created_at, model, input_items, output_items FROM responses WHERE id = ?",
                (response_id,),
            ).fetchone()
        if row is None:
            return None
        created_at, model, input_items, output_items = row
        return StoredResponse(
            response_id, created_at, model, json.loads(input_items), json.loads(output_items)
        )

    def _put(self, response: StoredResponse) -> None:
        values = (
            response.response_id,
            response.created_at,
            response.model,
            json.dumps(response.input_items, ensure_ascii=False),
            json.dumps(response.output_items, ensure_ascii=False),
        )
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", values)

    def _close(self) -> None:
        with self._lock:
            self._db.close()
