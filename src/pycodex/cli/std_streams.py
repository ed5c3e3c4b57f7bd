"""exec's standard streams when nobody is there: a closed descriptor, a reader that went away.

`pycodex exec` writes its product (the JSONL events, or the final message) to stdout. When stdout
cannot take it - the descriptor was closed before the start (`>&-`), or the reading end of the
pipe was closed (`| head -1` that has finished) - exec says so in one line on stderr and exits
`EXIT_STDOUT_CLOSED` (141, the status a shell shows for a process ended by SIGPIPE, which is how
`cat` or `grep` end in the same place). It never prints a traceback.
"""

from __future__ import annotations

import errno
import os
import sys

EXIT_STDOUT_CLOSED = 141
STDOUT_CLOSED_MESSAGE = "cannot write to stdout: it is closed, or nobody reads it any more"


class StdoutClosedError(Exception):
    """stdout cannot be written: closed at start, or a broken pipe."""


def fill_closed_descriptors() -> bool:
    """Put /dev/null on closed descriptors 0-2; True when stdout was one of them.

    A closed standard descriptor would otherwise be reused by the next file or socket opened, and
    whatever is written to "stdout" would land there.
    """
    stdout_closed = False
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            stdout_closed = stdout_closed or fd == 1
            _devnull_on(fd)
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    return stdout_closed


def write_stdout(text: str) -> None:
    """Write and flush `text`; `StdoutClosedError` when stdout cannot take it.

    After a broken pipe, stdout is pointed at /dev/null, so what is still buffered (and the
    interpreter's last flush) cannot fail again.
    """
    stream = sys.stdout
    if stream is None:
        raise StdoutClosedError
    try:
        stream.write(text)
        stream.flush()
    except (BrokenPipeError, ValueError) as err:  # ValueError: the stream object was closed
        _devnull_on(1)
        raise StdoutClosedError from err
    except OSError as err:
        if err.errno not in (errno.EPIPE, errno.EBADF):
            raise
        _devnull_on(1)
        raise StdoutClosedError from err


def report_stdout_closed() -> int:
    try:
        sys.stderr.write(f"ERROR: {STDOUT_CLOSED_MESSAGE}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr has gone too: the exit code still says it
    return EXIT_STDOUT_CLOSED


def _devnull_on(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    if devnull != fd:
        os.dup2(devnull, fd)
        os.close(devnull)
