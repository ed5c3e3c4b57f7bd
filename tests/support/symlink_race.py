"""A process that keeps exchanging a directory with a symlink, for apply_patch race tests.

`SWAPPER` is the source of a Python program taking one argument, a directory `BASE` holding a
real directory `BASE/dir` and a symlink `BASE/swap` (to somewhere else). It prints `ready`, then
swaps the two names atomically with `renameat2(RENAME_EXCHANGE)` as fast as it can until the
file `BASE/stop` appears, and prints how many swaps it made. Between two swaps `BASE/dir` is the
real directory half of the time and a symlink the other half: a writer that checks a path and
then opens it by name lands outside now and then.
"""

from __future__ import annotations

import os
from pathlib import Path

SWAPPER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
RENAME_EXCHANGE, AT_FDCWD = 2, -100
base = sys.argv[1]
first, second = (os.fsencode(os.path.join(base, name)) for name in ("dir", "swap"))
stop = os.path.join(base, "stop")
swaps = 0
print("ready", flush=True)
while not os.path.exists(stop):
    if libc.renameat2(AT_FDCWD, first, AT_FDCWD, second, RENAME_EXCHANGE) != 0:
        print("renameat2 failed:", os.strerror(ctypes.get_errno()), flush=True)
        sys.exit(1)
    swaps += 1
print(swaps, flush=True)
"""


def prepare(base: Path, outside: Path) -> None:
    """`base/dir` (a real directory) and `base/swap` (a symlink to `outside`)."""
    (base / "dir").mkdir(parents=True)
    outside.mkdir(parents=True, exist_ok=True)
    (base / "swap").symlink_to(outside, target_is_directory=True)


def add_file_patch(index: int) -> str:
    return f"*** Begin Patch\n*** Add File: race/dir/f{index}.txt\n+x\n*** End Patch\n"


def files_under(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.startswith("f"))
