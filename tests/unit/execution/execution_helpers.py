"""Helpers for the execution tests: watching real processes exit, and a control FIFO.

Process exit is observed through pidfds (readable once the process has terminated, zombie or
not), so tests wait on the kernel's event rather than sleeping and re-checking. Imported by
module name, which pytest's default import mode makes possible from this directory.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ExitWatch:
    """Opens a pidfd per watched pid while it is alive, then waits for all of them to exit."""

    def __init__(self) -> None:
        self._fds: dict[int, int] = {}

    def watch(self, *pids: int) -> None:
        for pid in pids:
            try:
                self._fds[pid] = os.pidfd_open(pid)
            except ProcessLookupError:
                pass  # already gone

    async def wait_all_exited(self, timeout_s: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        waits = []
        for fd in self._fds.values():
            done: asyncio.Future[None] = loop.create_future()
            loop.add_reader(fd, _wake, done)
            waits.append(done)
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*waits)
        finally:
            for fd in self._fds.values():
                loop.remove_reader(fd)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


class ControlFifo:
    """A named pipe a child can block on or report through, read and written without blocking.

    Opened read-write so neither side's open() waits for the other and reads never see EOF.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)

    def send(self, text: str) -> None:
        os.write(self._fd, text.encode())

    async def read_line(self, timeout_s: float = 5.0) -> str:
        loop = asyncio.get_running_loop()
        buffer = b""
        while not buffer.endswith(b"\n"):
            readable: asyncio.Future[None] = loop.create_future()
            loop.add_reader(self._fd, _wake, readable)
            try:
                async with asyncio.timeout(timeout_s):
                    await readable
            finally:
                loop.remove_reader(self._fd)
            buffer += os.read(self._fd, 4096)
        return buffer.decode().strip()

    def close(self) -> None:
        os.close(self._fd)
