"""Non-blocking descriptor I/O on the running event loop.

pycodex owns the descriptors of its children (pipes and pseudo-terminal masters) rather than
handing them to asyncio transports, so it decides when they are closed: a background grandchild
that keeps a pipe open must not keep a command from returning, and a PTY master reports the end
of its output as EIO, which stream transports treat as an error.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

READ_SIZE = 64 * 1024


class FdReader:
    """Feeds everything that arrives on `fd` to `on_data` until end of file.

    The reader never closes `fd`; whoever owns it calls `stop` first and then closes it.
    """

    def __init__(self, fd: int, on_data: Callable[[bytes], None]) -> None:
        self._fd = fd
        self._on_data = on_data
        self._loop = asyncio.get_running_loop()
        self._eof = asyncio.Event()
        self._watching = True
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._on_readable)

    @property
    def at_eof(self) -> bool:
        return self._eof.is_set()

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            # EIO is how a PTY master says every slave descriptor is closed: the end of output.
            data = b""
        if data:
            self._on_data(data)
            return
        self.stop()
        self._eof.set()

    def stop(self) -> None:
        """Stop watching the descriptor; safe to call more than once."""
        if self._watching:
            self._watching = False
            self._loop.remove_reader(self._fd)

    async def wait_eof(self, timeout_s: float | None) -> bool:
        """Wait for end of file; False when `timeout_s` passed first."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._eof.wait()
        except TimeoutError:
            return False
        return True


async def write_all(fd: int, data: bytes, timeout_s: float) -> int:
    """Write `data` to the non-blocking `fd`, waiting for room as needed, for at most `timeout_s`.

    Returns how many bytes were written (fewer than `len(data)` only on timeout). OSError from the
    descriptor (EPIPE, EIO once the other side is gone) propagates.
    """
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    written = 0
    deadline = loop.time() + timeout_s
    while written < len(view):
        try:
            written += os.write(fd, view[written:])
            continue
        except (BlockingIOError, InterruptedError):
            pass
        if not await _wait_writable(loop, fd, deadline - loop.time()):
            break
    return written


async def _wait_writable(loop: asyncio.AbstractEventLoop, fd: int, timeout_s: float) -> bool:
    if timeout_s <= 0:
        return False
    ready: asyncio.Future[None] = loop.create_future()

    def on_writable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(fd, on_writable)
    try:
        async with asyncio.timeout(timeout_s):
            await ready
    except TimeoutError:
        return False
    finally:
        loop.remove_writer(fd)
    return True
