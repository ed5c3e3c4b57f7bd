"""Stdio transport: lines in from stdin, JSON lines out on stdout.

Stdout carries protocol lines only (every log line goes to stderr). Writes are whole lines in
one blocking call each, from the event loop's thread, so messages never interleave and keep the
order in which they were produced. A client that closes its end makes `closed` true; the server
then shuts down.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import stat
import sys
import time
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

# Images arrive inline as data URLs: a line may be large.
MAX_LINE_BYTES = 64 * 1024 * 1024


class LineTooLong(Exception):
    """A line over MAX_LINE_BYTES was skipped."""


class StdioTransport:
    def __init__(self, stdin: BinaryIO | None = None, stdout_fd: int | None = None) -> None:
        self._stdin = stdin if stdin is not None else sys.stdin.buffer
        self._stdout_fd = stdout_fd if stdout_fd is not None else sys.stdout.fileno()
        self.closed = False

    async def lines(self) -> AsyncIterator[bytes | LineTooLong]:
        """Every input line (without its newline) until end of input."""
        if not stat.S_ISREG(os.fstat(self._stdin.fileno()).st_mode):
            async for line in self._pipe_lines():
                yield line
            return
        # A regular file cannot be watched by the event loop; reading it never blocks long.
        for raw in iter(self._stdin.readline, b""):
            yield raw.rstrip(b"\r\n")

    async def _pipe_lines(self) -> AsyncIterator[bytes | LineTooLong]:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self._stdin)
        while True:
            try:
                raw = await reader.readline()
            except ValueError:  # over the limit: the reader dropped it
                yield LineTooLong()
                continue
            if not raw:
                return
            yield raw.rstrip(b"\r\n")

    def send(self, message: dict[str, Any]) -> None:
        """Write one message as one line; a closed stdout marks the transport closed."""
        if self.closed:
            return
        data = (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._stdout_fd, view)
                view = view[written:]
        except BlockingIOError:
            self._drain_blocking(view)
        except OSError:  # the client hung up
            self.closed = True

    def _drain_blocking(self, view: memoryview) -> None:
        """Stdout was left non-blocking by someone else: wait until it takes the rest."""
        while view:
            try:
                written = os.write(self._stdout_fd, view)
            except BlockingIOError:
                select.select([], [self._stdout_fd], [])
                continue
            except OSError:
                self.closed = True
                return
            view = view[written:]


def now_ms() -> int:
    return int(time.time() * 1000)
