"""The response store: new items only per response, chains rebuilt on read, caps, private files."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest

from pycodex.server.sqlite_store import SqliteResponseStore
from pycodex.server.store import (
    BrokenChain,
    EncodedResponse,
    MemoryResponseStore,
    ResponseStore,
    StoredResponse,
    StoreLimits,
)
from support.fake_server import FakeModelServer
from support.serve import running_serve
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}], "id": f"msg_{text}"}  # fmt: skip


def answer(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}], "id": f"msg_a{text}"}  # fmt: skip


def entry(
    response_id: str,
    parent: str | None = None,
    *,
    said: str | None = None,
    age_s: float = 0.0,
    restarts: bool = False,
) -> StoredResponse:
    said = said or response_id
    response = {"id": response_id, "object": "response", "output": [answer(said)]}
    return StoredResponse(
        response_id, parent, time.time() - age_s, [user(said)], response, restarts
    )


@pytest.fixture(params=["memory", "sqlite"])
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    opened: list[ResponseStore] = []

    def make(limits: StoreLimits | None = None) -> ResponseStore:
        store: ResponseStore
        if request.param == "memory":
            store = MemoryResponseStore(limits)
        else:
            store = SqliteResponseStore(tmp_path / f"s{len(opened)}.sqlite", limits)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def test_a_chain_is_rebuilt_from_its_links(make_store: Any) -> None:
    store = make_store()
    await store.put(entry("a"))
    await store.put(entry("b", "a"))
    await store.put(entry("c", "b"))
    assert await store.conversation("c") == [user("a"), answer("a"), user("b"), answer("b"), user("c"), answer("c")]  # fmt: skip
    assert await store.conversation("a") == [user("a"), answer("a")]
    assert await store.conversation("zzz") is None
    stored = await store.get("b")
    assert stored is not None and (stored.parent_id, stored.restarts) == ("a", False)
    assert (stored.input_items, stored.output_items) == ([user("b")], [answer("b")])


async def test_a_compaction_restarts_the_conversation(make_store: Any) -> None:
    store = make_store()
    await store.put(entry("a"))
    await store.put(entry("summary", "a", restarts=True))
    await store.put(entry("c", "summary"))
    assert await store.conversation("c") == [answer("summary"), user("c"), answer("c")]
    await store.delete("a")  # what came before the compaction is no longer needed
    assert await store.conversation("c") == [answer("summary"), user("c"), answer("c")]


async def test_a_chain_with_a_missing_link_is_broken(make_store: Any) -> None:
    store = make_store()
    for name, parent in (("a", None), ("b", "a"), ("c", "b")):
        await store.put(entry(name, parent))
    assert await store.delete("b") is True
    assert await store.delete("b") is False
    with pytest.raises(BrokenChain) as caught:
        await store.conversation("c")
    assert caught.value.missing_id == "b"


async def test_responses_older_than_the_age_cap_are_gone(make_store: Any) -> None:
    store = make_store(StoreLimits(max_age_s=60))
    await store.put(entry("old", age_s=120))
    await store.put(entry("young", "old"))
    assert await store.get("old") is None
    assert await store.conversation("old") is None
    with pytest.raises(BrokenChain):
        await store.conversation("young")


async def test_the_oldest_responses_go_when_the_store_is_full(make_store: Any) -> None:
    size = EncodedResponse.of(entry("r0")).size
    store = make_store(StoreLimits(max_bytes=size * 4))
    for index in range(10):
        await store.put(entry(f"r{index}", age_s=100 - index))
    kept = [f"r{i}" for i in range(10) if await store.get(f"r{i}") is not None]
    assert kept[-1] == "r9" and len(kept) <= 4
    assert kept == [f"r{i}" for i in range(10 - len(kept), 10)]  # the newest survive


def test_sqlite_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "home" / "serve" / "responses.sqlite"
    store = SqliteResponseStore(path)
    try:
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["responses.sqlite", "responses.sqlite-shm", "responses.sqlite-wal"]
        for name in files:
            assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
        for directory in (path.parent, path.parent.parent):
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    finally:
        store._close()


def test_a_store_made_world_readable_before_is_restricted(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    SqliteResponseStore(path)._close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_store_of_the_first_schema_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE responses (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, model TEXT NOT NULL, input_items TEXT NOT NULL, output_items TEXT NOT NULL)")  # fmt: skip
    conversation = [{"type": "message", "role": "user", "content": "hi"}]
    old.execute(
        "INSERT INTO responses VALUES (?, ?, ?, ?, ?)",
        ("resp_old", int(time.time()), "m", json.dumps(conversation), json.dumps([answer("x")])),
    )
    old.commit()
    old.close()
    store = SqliteResponseStore(path)
    try:
        items = await store.conversation("resp_old")
        assert items is not None and [i["type"] for i in items] == ["message", "message"]
        assert items[0]["id"] and items[0]["content"] == [{"type": "input_text", "text": "hi"}]
        stored = await store.get("resp_old")
        assert stored is not None and stored.response["model"] == "m"
    finally:
        await store.close()


async def test_sqlite_byte_total_follows_inserts_deletes_and_eviction(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    size = EncodedResponse.of(entry("r0")).size
    store = SqliteResponseStore(path, StoreLimits(max_bytes=size * 5))
    for index in range(12):
        await store.put(entry(f"r{index}", age_s=100 - index))
    await store.delete("r11")
    await store.close()
    db = sqlite3.connect(path)
    (total,) = db.execute("SELECT total FROM stored_bytes").fetchone()
    (actual,) = db.execute("SELECT SUM(size) FROM stored_responses").fetchone()
    db.close()
    assert total == actual and 0 < total <= size * 5


_WRITER = """
import asyncio, sys, time
from pathlib import Path
from pycodex.server.sqlite_store import SqliteResponseStore
from pycodex.server.store import StoredResponse

async def main(path, name):
    store = SqliteResponseStore(Path(path))
    for i in range(100):
        rid = f"{name}-{i}"
        parent = f"{name}-{i - 1}" if i else None
        item = {"type": "message", "role": "user", "content": [], "id": "m" + rid}
        await store.put(StoredResponse(rid, parent, time.time(), [item], {"id": rid, "output": []}))
    await store.close()

asyncio.run(main(*sys.argv[1:]))
"""


async def test_processes_share_one_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    SqliteResponseStore(path)._close()
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WRITER, str(path), f"w{n}", stderr=subprocess.PIPE
        )
        for n in range(4)
    ]
    for writer in writers:
        _, err = await writer.communicate()
        assert writer.returncode == 0, err.decode()
    store = SqliteResponseStore(path)
    try:
        for n in range(4):
            items = await store.conversation(f"w{n}-99")
            assert items is not None and len(items) == 100
    finally:
        await store.close()


async def test_each_stored_turn_holds_only_its_own_items(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    turns = 12
    for index in range(turns):
        fake_server.expect_chat_stream(CHAT, [chat_chunk(f"a{index}"), chat_chunk(finish_reason="stop")])  # fmt: skip
    with running_serve(fake_server, tmp_path) as serve:
        async with openai.AsyncOpenAI(base_url=serve.base_url, api_key="k", max_retries=0) as client:  # fmt: skip
            previous = None
            for index in range(turns):
                response = await client.responses.create(
                    model="m", input=f"q{index}", previous_response_id=previous
                )
                previous = response.id
    # The last request carried the whole conversation...
    contents = [m["content"] for m in fake_server.requests[-1].json()["messages"]]
    assert contents == [text for i in range(turns) for text in (f"q{i}", f"a{i}")][:-1]
    # ...while each stored row holds one question and one answer: linear, not quadratic.
    db = sqlite3.connect(tmp_path / "serve" / "responses.sqlite")
    rows = db.execute("SELECT input_items, output_items FROM stored_responses").fetchall()
    db.close()
    assert len(rows) == turns
    assert all(len(json.loads(i)) == 1 and len(json.loads(o)) == 1 for i, o in rows)
