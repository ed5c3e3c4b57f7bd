"""The sandbox's cost per command, and what the seccomp filter adds to it.

Runs `/bin/true` read-only (network off) four ways, taking turns, 30 runs each after a warm-up,
and compares the medians: unconfined (the baseline); bubblewrap exactly as pycodex runs it
(`prepare_command`, the filter loaded from a pipe); the same bubblewrap command line without its
`--seccomp FD` argument; and the Landlock wrapper as pycodex runs it. The filter's own cost is
the difference between the two bubblewrap figures, and their ratio.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from bench.common import Table, interleaved_medians

RUNS = 30
MECHANISM = "PYCODEX_SANDBOX_MECHANISM"


def _prepared(mechanism: str) -> Callable[[], tuple[tuple[str, ...], tuple[int, ...]]] | None:
    """A factory of (argv, pass_fds) as `prepare_command` makes them, or None if unavailable."""
    from pycodex.execution.sandbox import prepare_command, sandbox_status
    from pycodex.protocol.policies import SandboxPolicy

    os.environ[MECHANISM] = mechanism
    try:
        if sandbox_status().mechanism != mechanism:
            return None
    finally:
        del os.environ[MECHANISM]

    def make() -> tuple[tuple[str, ...], tuple[int, ...]]:
        os.environ[MECHANISM] = mechanism
        try:
            prepared = prepare_command(["/bin/true"], Path("/"), SandboxPolicy.read_only())
        finally:
            del os.environ[MECHANISM]
        return prepared.argv, prepared.pass_fds

    return make


def _runner(
    make: Callable[[], tuple[tuple[str, ...], tuple[int, ...]]], *, drop_filter: bool = False
) -> Callable[[], None]:
    def run() -> None:
        argv, fds = make()
        launch, inherited = argv, fds
        if drop_filter:
            where = argv.index("--seccomp")
            launch, inherited = argv[:where] + argv[where + 2 :], ()
        try:
            subprocess.run(launch, pass_fds=inherited, check=True, stdin=subprocess.DEVNULL)
        finally:
            for fd in fds:
                os.close(fd)

    return run


def run(table: Table) -> None:
    bwrap = _prepared("bwrap")
    if bwrap is None or "--seccomp" not in bwrap()[0]:
        table.add("sandbox: seccomp filter", "skipped", "bwrap or the filter unavailable here")
        return
    work: dict[str, Callable[[], object]] = {
        "bare": lambda: subprocess.run(["/bin/true"], check=True, stdin=subprocess.DEVNULL),
        "bwrap": _runner(bwrap, drop_filter=True),
        "bwrap+seccomp": _runner(bwrap),
    }
    landlock = _prepared("landlock")
    if landlock is not None:
        work["landlock"] = _runner(landlock)
    times = interleaved_medians(work, RUNS)
    bare, plain, filtered = times["bare"], times["bwrap"], times["bwrap+seccomp"]
    table.add("sandbox: /bin/true unconfined", f"{bare * 1000:.2f} ms", "baseline")
    table.add("sandbox: bwrap, no filter", f"{plain * 1000:.2f} ms", f"{plain / bare:.2f}x bare")
    table.add(
        "sandbox: bwrap + seccomp filter",
        f"{filtered * 1000:.2f} ms",
        f"filter adds {(filtered - plain) * 1000:+.2f} ms/command, {filtered / plain:.3f}x bwrap",
    )
    if "landlock" in times:
        table.add(
            "sandbox: Landlock wrapper (filter included)",
            f"{times['landlock'] * 1000:.2f} ms",
            f"{times['landlock'] / bare:.2f}x bare",
        )
