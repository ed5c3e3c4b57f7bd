"""Shared helpers: timing, the fake server import, the result table."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def use_test_support() -> None:
    """Make `support` (tests/support: the fake model server) importable."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


def interleaved_medians(
    work: dict[str, Callable[[], object]], runs: int, warmup: int = 1
) -> dict[str, float]:
    """Median seconds of each piece of work, the pieces taking turns run by run."""
    samples: dict[str, list[float]] = {name: [] for name in work}
    for round_index in range(warmup + runs):
        for name, piece in work.items():
            started = time.perf_counter()
            piece()
            if round_index >= warmup:
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


@dataclass
class Table:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, name: str, value: str, note: str = "") -> None:
        self.rows.append((name, value, note))
        print(f"  {name}: {value}  {note}", file=sys.stderr, flush=True)

    def render(self) -> str:
        width = max(len(r[0]) for r in self.rows)
        value_width = max(len(r[1]) for r in self.rows)
        lines = [f"| {'figure':<{width}} | {'value':>{value_width}} | note |"]
        lines.append(f"|{'-' * (width + 2)}|{'-' * (value_width + 2)}|------|")
        lines += [f"| {n:<{width}} | {v:>{value_width}} | {note} |" for n, v, note in self.rows]
        return "\n".join(lines)


def stop(proc: subprocess.Popen[str] | subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout_s`; reaped either way."""
    proc.terminate()
    try:
        proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
