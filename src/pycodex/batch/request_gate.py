"""The batch-wide gate every model request passes: a cap on requests in flight, and one pause
for everybody when the server answers 429.

`LocalRequestGate` lives in one event loop: the batch process's, for the local pool (its
request proxy serves every exec process of the machine), or a Ray actor's, for a cluster (each
worker's proxy asks the actor; see `ray_executor`). After a 429 the gate holds every new request
until the server's `retry-after` (or, without one, a back-off that doubles with each 429 in a
row: 1 s, 2 s, 4 s ... up to a minute) has passed; a success resets the back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

from pycodex._records import dataclass


class RequestGate(Protocol):
    async def acquire(self) -> None:
        """Wait for a free slot and for any pause to end."""

    async def release(self) -> None: ...

    async def rate_limited(self, retry_after_s: float | None) -> None:
        """The server answered 429: pause every request (the caller retries after `acquire`)."""

    async def succeeded(self) -> None:
        """A request went through: the back-off starts over."""


@dataclass(frozen=True, slots=True)
class GateStats:
    requests: int = 0
    rate_limited: int = 0
    paused_s: float = 0.0
    peak_in_flight: int = 0

    def to_wire(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "paused_s": self.paused_s,
            "peak_in_flight": self.peak_in_flight,
        }


class LocalRequestGate:
    def __init__(
        self,
        limit: int | None = None,
        *,
        first_backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError("the request limit must be at least 1")
        self.limit = limit
        self._first_backoff_s = first_backoff_s
        self._max_backoff_s = max_backoff_s
        self._changed = asyncio.Condition()
        self._in_flight = 0
        self._resume_at = 0.0
        self._strikes = 0
        self._requests = 0
        self._rate_limited = 0
        self._paused_s = 0.0
        self._peak = 0

    @property
    def stats(self) -> GateStats:
        return GateStats(self._requests, self._rate_limited, self._paused_s, self._peak)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def acquire(self) -> None:
        async with self._changed:
            while True:
                pause = self._resume_at - time.monotonic()
                if pause > 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(pause):
                            await self._changed.wait()
                    continue
                if self.limit is None or self._in_flight < self.limit:
                    break
                await self._changed.wait()
            self._in_flight += 1
            self._requests += 1
            self._peak = max(self._peak, self._in_flight)

    async def release(self) -> None:
        async with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    async def rate_limited(self, retry_after_s: float | None) -> None:
        async with self._changed:
            self._strikes += 1
            self._rate_limited += 1
            if retry_after_s is None:
                backoff = self._first_backoff_s * 2 ** min(self._strikes - 1, 30)
                retry_after_s = min(self._max_backoff_s, backoff)
            now = time.monotonic()
            resume_at = now + max(0.0, retry_after_s)
            if resume_at > self._resume_at:
                self._paused_s += resume_at - max(now, self._resume_at)
                self._resume_at = resume_at
            self._changed.notify_all()

    async def succeeded(self) -> None:
        self._strikes = 0
