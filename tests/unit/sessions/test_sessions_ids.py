"""Thread ids are RFC 9562 UUIDv7: versioned, time-ordered, and carry their creation time."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from pycodex.sessions import is_uuid7, new_thread_id, timestamp_of

CANONICAL = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_new_thread_id_is_canonical_lowercase_uuid7() -> None:
    thread_id = new_thread_id()
    parsed = uuid.UUID(thread_id)
    assert CANONICAL.match(thread_id)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert str(parsed) == thread_id
    assert is_uuid7(thread_id)


def test_ids_made_in_a_burst_are_unique_and_strictly_increasing() -> None:
    ids = [new_thread_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_timestamp_of_returns_the_creation_millisecond() -> None:
    before = datetime.now(UTC)
    thread_id = new_thread_id()
    after = datetime.now(UTC)
    created = timestamp_of(thread_id)
    assert created.tzinfo is UTC
    # The counter may push an id at most a few ms ahead of the wall clock in a burst.
    assert before - timedelta(milliseconds=1) <= created <= after + timedelta(milliseconds=5)


def test_timestamp_of_decodes_a_known_id() -> None:
    assert timestamp_of("0197263a-8f40-7c3e-9a1b-2d4e6f708192") == datetime(
        2025, 5, 31, 12, 4, 21, 440_000, tzinfo=UTC
    )


@pytest.mark.parametrize("text", [str(uuid.uuid4()), "not-a-uuid", ""])
def test_timestamp_of_rejects_anything_but_uuid7(text: str) -> None:
    assert not is_uuid7(text)
    with pytest.raises(ValueError):
        timestamp_of(text)
