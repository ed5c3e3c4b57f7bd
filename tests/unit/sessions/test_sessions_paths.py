"""Rollout paths use local time for the folder and name; record timestamps are UTC with ms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pycodex.sessions import format_timestamp, rollout_path
from pycodex.sessions.paths import parse_rollout_file_name, parse_timestamp

THREAD_ID = "0197263a-8f40-7c3e-9a1b-2d4e6f708192"


@pytest.fixture
def tokyo_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A POSIX TZ string needs no tz database; UTC+9 moves evening UTC to the next local day.
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_format_timestamp_is_utc_with_milliseconds_and_z() -> None:
    moment = datetime(2025, 6, 1, 10, 0, 0, 123_987, tzinfo=UTC)
    assert format_timestamp(moment) == "2025-06-01T10:00:00.123Z"
    plus_two = datetime(2025, 6, 1, 12, 0, 0, 5_000, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(plus_two) == "2025-06-01T10:00:00.005Z"


@pytest.mark.usefixtures("tokyo_local_time")
def test_rollout_path_uses_local_date_and_time() -> None:
    started = datetime(2025, 6, 1, 20, 30, 5, tzinfo=UTC)
    path = rollout_path(Path("/home/u/.codex"), THREAD_ID, started)
    assert path == Path(
        f"/home/u/.codex/sessions/2025/06/02/rollout-2025-06-02T05-30-05-{THREAD_ID}.jsonl"
    )


def test_file_name_round_trips() -> None:
    started = datetime(2025, 1, 2, 3, 4, 5)
    path = rollout_path(Path("/h"), THREAD_ID, started)
    assert parse_rollout_file_name(path.name) == (started, THREAD_ID)
    assert parse_rollout_file_name("rollout-2025-01-02T03-04-05-nope.jsonl") is None
    assert parse_rollout_file_name("notes.txt") is None


def test_parse_timestamp_reads_record_timestamps() -> None:
    assert parse_timestamp("2025-06-01T10:00:00.123Z") == datetime(
        2025, 6, 1, 10, 0, 0, 123_000, tzinfo=UTC
    )
    assert parse_timestamp("yesterday") is None
