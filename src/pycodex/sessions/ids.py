"""Thread ids: UUID version 7 (RFC 9562, section 5.7).

Layout of the 128 bits, most significant first:

    48 bits  unix_ts_ms   milliseconds since the epoch
     4 bits  ver          0b0111
    12 bits  rand_a       here: a counter seeded randomly each millisecond (RFC 9562 6.2, method 1)
     2 bits  var          0b10
    62 bits  rand_b       random

Because the timestamp leads, ids sort in creation order, and rollout file names (which end in the
id) sort the same way. The counter keeps ids made within one millisecond in order too.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

_RAND_A_BITS = 12
_RAND_A_MAX = (1 << _RAND_A_BITS) - 1
_RAND_B_BITS = 62


class _Uuid7Generator:
    """Remembers the last timestamp and counter so ids from one process never go backwards."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def next_fields(self) -> tuple[int, int]:
        now_ms = time.time_ns() // 1_000_000
        with self._lock:
            if now_ms > self._last_ms:
                # Seed below the midpoint so a burst in one millisecond has room to count up.
                self._counter = int.from_bytes(os.urandom(2), "big") & (_RAND_A_MAX >> 1)
                self._last_ms = now_ms
            else:
                # Same millisecond, or the wall clock stepped back: stay on the last timestamp.
                self._counter += 1
                if self._counter > _RAND_A_MAX:
                    self._last_ms += 1
                    self._counter = 0
            return self._last_ms, self._counter


# One generator per process: monotonicity is a property of the whole process, not of a caller.
_GENERATOR = _Uuid7Generator()


def new_thread_id() -> str:
    """Return a fresh UUIDv7 as canonical lowercase hyphenated text."""
    unix_ms, counter = _GENERATOR.next_fields()
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << _RAND_B_BITS) - 1)
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= rand_b
    return _format_uuid(value)


def new_random_id() -> str:
    """A random UUID (version 4) as canonical text, for turn and request ids."""
    value = int.from_bytes(os.urandom(16), "big")
    value = (value & ~(0xF << 76)) | (0x4 << 76)
    value = (value & ~(0b11 << 62)) | (0b10 << 62)
    return _format_uuid(value)


def _format_uuid(value: int) -> str:
    # What str(uuid.UUID(int=value)) gives, without importing `uuid` (and `platform`) at start-up.
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def is_uuid7(text: str) -> bool:
    """Whether `text` parses as a UUID with version 7 and the RFC 9562 variant."""
    import uuid

    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return False
    return parsed.version == 7 and parsed.variant == uuid.RFC_4122


def timestamp_of(uuid7: str) -> datetime:
    """The creation time (UTC, millisecond precision) embedded in a UUIDv7.

    Raises ValueError when `uuid7` is not a version 7 UUID.
    """
    if not is_uuid7(uuid7):
        raise ValueError(f"not a UUIDv7: {uuid7!r}")
    unix_ms = int(uuid7.replace("-", ""), 16) >> 80
    seconds, millis = divmod(unix_ms, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=millis * 1000)
