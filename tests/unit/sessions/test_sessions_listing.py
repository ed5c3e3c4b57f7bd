"""Listing, filtering, hiding and finding recorded sessions under $CODEX_HOME/sessions."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pycodex.agent.rollout import RecordedThread, fork_thread
from pycodex.compaction.history import compacted_history
from pycodex.protocol.items import Message, parse_item, user_message
from pycodex.sessions import (
    RolloutRecorder,
    SessionNotFoundError,
    encode_record,
    find_session,
    latest_session,
    list_sessions,
    new_thread_id,
    rollout_path,
)

FIXTURE = (
    Path(__file__).parent
    / "fixtures"
    / "rollout-2025-05-31T12-04-21-0197263a-8f40-7c3e-9a1b-2d4e6f708192.jsonl"
)


def message(role: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


async def record_session(
    home: Path,
    started: datetime,
    cwd: str,
    *,
    prompt: str | None,
    thread_id: str | None = None,
) -> Path:
    """Record a session the way the engine does: context items first, then the user's turn."""
    recorder = RolloutRecorder(
        home, thread_id or new_thread_id(), {"cwd": cwd, "source": "exec"}, started_at=started
    )
    recorder.record_items(
        [
            message("developer", "<permissions instructions>...</permissions instructions>"),
            message("user", "# AGENTS.md instructions for /repo\n\nBe nice."),
            message("user", "<environment_context>\n  <cwd>/repo</cwd>\n</environment_context>"),
        ]
    )
    if prompt is not None:
        recorder.record_items([message("user", prompt)])
        recorder.record_event({"type": "user_message", "message": prompt, "images": []})
    await recorder.close()
    return recorder.path


def at(day: int, hour: int = 12, *, month: int = 6, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


async def test_sessions_are_listed_newest_first_across_years_months_and_days(
    tmp_path: Path,
) -> None:
    order = [at(1, year=2024), at(30, month=5), at(2, 9), at(2, 15), at(10)]
    paths = [
        await record_session(tmp_path, t, "/repo", prompt=f"p{i}") for i, t in enumerate(order)
    ]
    listed = list_sessions(tmp_path)
    assert [s.path for s in listed] == list(reversed(paths))
    assert [s.first_user_message for s in listed] == ["p4", "p3", "p2", "p1", "p0"]
    assert [s.started_at for s in listed] == sorted(order, reverse=True)
    assert [s.path for s in list_sessions(tmp_path, limit=2)] == [paths[4], paths[3]]


async def test_summary_fields_come_from_the_head_and_the_file(tmp_path: Path) -> None:
    thread_id = new_thread_id()
    path = await record_session(tmp_path, at(3), "/repo", prompt="fix the bug", thread_id=thread_id)
    [summary] = list_sessions(tmp_path)
    assert summary.thread_id == thread_id
    assert summary.path == path == rollout_path(tmp_path, thread_id, at(3))
    assert summary.cwd == Path("/repo")
    assert summary.started_at == at(3)
    assert summary.size_bytes == path.stat().st_size
    assert summary.updated_at == datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    assert summary.first_user_message == "fix the bug"


async def test_sessions_without_a_real_user_message_or_meta_are_hidden(tmp_path: Path) -> None:
    await record_session(tmp_path, at(1), "/repo", prompt=None)  # only injected context
    visible = await record_session(tmp_path, at(2), "/repo", prompt="real")
    no_meta = rollout_path(tmp_path, new_thread_id(), at(3))
    no_meta.parent.mkdir(parents=True)
    no_meta.write_bytes(encode_record("response_item", message("user", "orphan"), at(3)))
    (no_meta.parent / "notes.txt").write_text("not a rollout")
    assert [s.path for s in list_sessions(tmp_path)] == [visible]


async def test_first_message_can_come_from_a_user_message_event_alone(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), {"cwd": "/r"}, started_at=at(4))
    recorder.record_event({"type": "user_message", "message": "from the event", "images": []})
    await recorder.close()
    assert [s.first_user_message for s in list_sessions(tmp_path)] == ["from the event"]


async def test_listing_filters_by_cwd(tmp_path: Path) -> None:
    here = tmp_path / "project"
    here.mkdir()
    home = tmp_path / "home"
    mine = await record_session(home, at(1), str(here), prompt="mine")
    await record_session(home, at(2), "/elsewhere", prompt="theirs")
    assert [s.path for s in list_sessions(home, cwd=here)] == [mine]
    assert [s.path for s in list_sessions(home, cwd=here / "sub" / "..")] == [mine]
    assert len(list_sessions(home)) == 2
    assert latest_session(home, here) == mine
    assert latest_session(home, None) != mine
    assert latest_session(home, tmp_path / "nowhere") is None


def test_an_empty_or_missing_home_lists_nothing(tmp_path: Path) -> None:
    assert list_sessions(tmp_path / "missing") == []
    assert latest_session(tmp_path, None) is None


async def test_max_scan_bounds_the_files_opened(tmp_path: Path) -> None:
    for day in range(1, 6):
        await record_session(tmp_path, at(day), "/repo", prompt=f"d{day}")
    assert [s.first_user_message for s in list_sessions(tmp_path, max_scan=2)] == ["d5", "d4"]


def test_the_contract_fixture_is_listed(tmp_path: Path) -> None:
    day = tmp_path / "sessions" / "2025" / "05" / "31"
    day.mkdir(parents=True)
    shutil.copy(FIXTURE, day / FIXTURE.name)
    [summary] = list_sessions(tmp_path, cwd=Path("/home/dev/project"))
    assert summary.thread_id == "0197263a-8f40-7c3e-9a1b-2d4e6f708192"
    assert summary.first_user_message == "List the files, then tell me what main.py does."
    assert summary.started_at == datetime(2025, 5, 31, 12, 4, 21, 440_000, tzinfo=UTC)


async def test_find_session_by_id_prefix_case_and_hyphens(tmp_path: Path) -> None:
    thread_id = "0197263a-8f40-7c3e-9a1b-2d4e6f708192"
    path = await record_session(tmp_path, at(1), "/r", prompt="x", thread_id=thread_id)
    await record_session(
        tmp_path, at(2), "/r", prompt="y", thread_id="0198aaaa-0000-7000-8000-000000000001"
    )
    assert find_session(tmp_path, thread_id) == path
    assert find_session(tmp_path, "0197") == path
    assert find_session(tmp_path, "0197263A8F40") == path
    assert find_session(tmp_path, f"  {thread_id.upper()} ") == path


async def test_find_session_finds_hidden_sessions_too(tmp_path: Path) -> None:
    path = await record_session(tmp_path, at(1), "/r", prompt=None)
    assert find_session(tmp_path, path.name[-42:-6]) == path


async def test_find_session_reports_missing_and_ambiguous_in_one_line(tmp_path: Path) -> None:
    first = await record_session(
        tmp_path, at(1), "/r", prompt="x", thread_id="0197263a-0000-7000-8000-000000000001"
    )
    second = await record_session(
        tmp_path, at(2), "/r", prompt="y", thread_id="0197263a-0000-7000-8000-000000000002"
    )
    with pytest.raises(SessionNotFoundError) as ambiguous:
        find_session(tmp_path, "0197263a")
    assert set(ambiguous.value.candidates) == {first, second}
    assert str(ambiguous.value) == (
        "session id prefix '0197263a' is ambiguous: it matches 2 sessions"
    )
    for query in ("0199", "", "not-hex!"):
        with pytest.raises(SessionNotFoundError) as missing:
            find_session(tmp_path, query)
        assert "\n" not in str(missing.value)
        assert missing.value.candidates == ()


async def test_a_compacted_history_is_titled_by_the_user_not_the_summary(tmp_path: Path) -> None:
    # A fork (or a copy) of a compacted thread starts with the compacted history: the context,
    # the recent user messages (here none: the thread had only injected context), then the
    # summary, which the picker must not mistake for what the user typed.
    context = [parse_item(message("user", "<environment_context>\n</environment_context>"))]
    history = [*context, parse_item(message("assistant", "Found it."))]
    compacted = compacted_history(context, history, "The user asked why the build fails.")
    assert [item.role for item in compacted if isinstance(item, Message)] == ["user", "user"]
    recorded = RecordedThread(
        path=tmp_path / "original.jsonl",
        thread_id=new_thread_id(),
        session_id="",
        history=[*compacted, user_message("now add a test for it")],
        base_instructions=None,
    )
    _thread_id, path = await fork_thread(tmp_path, Path("/repo"), recorded)
    [summary] = list_sessions(tmp_path)
    assert summary.path == path
    assert summary.first_user_message == "now add a test for it"
