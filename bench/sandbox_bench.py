"""The sandbox's cost per command, and what the seccomp filter adds to it.

Runs `/bin/true` read-only (network off) and compares, in the same run:

- unconfined (the baseline), bubblewrap exactly as pycodex runs it (`prepare_command`, the
  filter loaded from a pipe) and the Landlock wrapper as pycodex runs it: medians of 30 runs
  each, taking turns;
- the filter's own cost: 100 pairs of the bubblewrap command with and without its
  `--seccomp FD` argument, run back to back in alternating order; the median of the paired
  differences and the ratio of the two medians. Pairing cancels most of the machine's drift,
  which on a shared machine is larger than the filter's cost.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Table, interleaved_medians

RUNS = 30
PAIRS = 100
MECHANISM = "PYCODEX_SANDBOX_MECHANISM"
Launch = tuple[tuple[str, ...], tuple[int, ...]]


def _prepared(mechanism: str) -> Callable[[], Launch] | None:
    """A factory of (argv, pass_fds) as `prepare_command` makes them, or None if unavailable."""
    from pycodex.execution.sandbox import prepare_command, sandbox_status
    from pycodex.protocol.policies import SandboxPolicy

    os.environ[MECHANISM] = mechanism
    try:
        if sandbox_status().mechanism != mechanism:
            return None
    finally:
        del os.environ[MECHANISM]

    def make() -> Launch:
        os.environ[MECHANISM] = mechanism
        try:
            prepared = prepare_command(["/bin/true"], Path("/"), SandboxPolicy.read_only())
        finally:
            del os.environ[MECHANISM]
        return prepared.argv, prepared.pass_fds

    return make


def _timed(argv: tuple[str, ...], fds: tuple[int, ...]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, pass_fds=fds, check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def _run_prepared(make: Callable[[], Launch]) -> Callable[[], None]:
    def run() -> None:
        argv, fds = make()
        try:
            _timed(argv, fds)
        finally:
            for fd in fds:
                os.close(fd)

    return run


def _filter_pairs(make: Callable[[], Launch]) -> tuple[list[float], list[float]]:
    """(without, with) the filter, one pair per round, the order alternating."""
    without: list[float] = []
    with_filter: list[float] = []
    for round_index in range(PAIRS + 1):
        argv, fds = make()
        where = argv.index("--seccomp")
        plain = argv[:where] + argv[where + 2 :]
        try:
            if round_index % 2:
                filtered, unfiltered = _timed(argv, fds), _timed(plain, ())
            else:
                unfiltered, filtered = _timed(plain, ()), _timed(argv, fds)
        finally:
            for fd in fds:
                os.close(fd)
        if round_index:  # the first round warms up
            without.append(unfiltered)
            with_filter.append(filtered)
    return without, with_filter


def run(table: Table) -> None:
    bwrap = _prepared("bwrap")
    if bwrap is None or "--seccomp" not in bwrap()[0]:
        table.add("sandbox: seccomp filter", "skipped", "bwrap or the filter unavailable here")
        return
    work: dict[str, Callable[[], object]] = {
        "bare": lambda: _timed(("/bin/true",), ()),
        "bwrap": _run_prepared(bwrap),
    }
    landlock = _prepared("landlock")
    if landlock is not None:
        work["landlock"] = _run_prepared(landlock)
    times = interleaved_medians(work, RUNS)
    bare = times["bare"]
    table.add("sandbox: /bin/true unconfined", f"{bare * 1000:.2f} ms", "baseline")
    table.add(
        "sandbox: bwrap as pycodex runs it",
        f"{times['bwrap'] * 1000:.2f} ms",
        f"+{(times['bwrap'] - bare) * 1000:.1f} ms over bare",
    )
    if "landlock" in times:
        table.add(
            "sandbox: Landlock wrapper as pycodex runs it",
            f"{times['landlock'] * 1000:.2f} ms",
            f"+{(times['landlock'] - bare) * 1000:.1f} ms over bare",
        )
    without, with_filter = _filter_pairs(bwrap)
    paired = statistics.median(b - a for a, b in zip(without, with_filter, strict=True))
    ratio = statistics.median(with_filter) / statistics.median(without)
    table.add(
        "sandbox: seccomp filter, per bwrap command",
        f"{paired * 1000:+.2f} ms",
        f"median of {PAIRS} paired differences; {ratio:.3f}x bwrap without the filter",
    )
