"""Showing a batch as it runs: a live bar on a terminal, a plain line every few seconds
otherwise, and a summary table at the end. Reads `BatchProgress`; writes to one text stream.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pycodex.batch.request_gate import GateStats
from pycodex.batch.results import BatchResult
from pycodex.batch.scheduler import BatchProgress

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


def rate(progress: BatchProgress) -> float:
    elapsed = time.monotonic() - progress.started_at
    return progress.finished / elapsed if elapsed > 0 else 0.0


def eta_seconds(progress: BatchProgress) -> float | None:
    speed = rate(progress)
    if speed <= 0:
        return None
    return (progress.total - progress.finished) / speed


def status_line(progress: BatchProgress) -> str:
    """One plain line: `12/50 done (10 completed, 2 failed) · 4 running · 0.8 tasks/s · ...`."""
    parts = [f"{progress.finished}/{progress.total} done ({_outcomes(progress)})"]
    parts.append(f"{progress.running} running")
    parts.append(f"{rate(progress):.2f} tasks/s")
    eta = eta_seconds(progress)
    if eta is not None and progress.finished < progress.total:
        parts.append(f"ETA {format_duration(eta)}")
    parts.append(f"{format_count(progress.tokens)} tokens")
    if progress.stopping:
        parts.append("stopping")
    return " · ".join(parts)


def _outcomes(progress: BatchProgress) -> str:
    counts = [
        (progress.completed, "completed"),
        (progress.failed, "failed"),
        (progress.timed_out, "timed out"),
        (progress.cancelled, "cancelled"),
    ]
    shown = [f"{n} {label}" for n, label in counts if n or label == "completed"]
    return ", ".join(shown)


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_count(count: int) -> str:
    if count < 10_000:
        return str(count)
    if count < 10_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


class ProgressDisplay:
    """Shows `progress` until `run` is cancelled; `summary` prints the closing table."""

    def __init__(
        self, progress: BatchProgress, stream: TextIO, *, live: bool, interval_s: float = 10.0
    ) -> None:
        self.progress = progress
        self.stream = stream
        self.live = live
        self.interval_s = interval_s
        self._bar: Progress | None = None

    def finished(self, result: BatchResult) -> None:
        """One line per finished task in a log; on a terminal, only the tasks that went wrong
        (the bar counts the rest)."""
        if self.live and result.status == "completed":
            return
        line = f"{result.id}: {result.status.replace('_', ' ')} ({result.duration_s:.1f}s)"
        if result.error and result.status != "cancelled":
            line += f": {result.error}"
        if self.live and self._bar is not None:
            self._bar.console.print(line, markup=False)
            return
        self.stream.write(f"[batch] {line}\n")
        self.stream.flush()

    async def run(self) -> None:
        if self.live:
            await self._run_live()
        else:
            await self._run_lines()

    async def _run_lines(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)  # a display's own clock, not a wait on work
            self.stream.write(f"[batch] {status_line(self.progress)}\n")
            self.stream.flush()

    async def _run_live(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn

        bar = Progress(
            TextColumn("batch"),
            BarColumn(),
            TextColumn("{task.fields[line]}"),
            console=self._console(),
            transient=True,
            auto_refresh=False,
        )
        task = bar.add_task("batch", total=self.progress.total, line="")
        self._bar = bar
        with bar:
            try:
                while True:
                    self._refresh(bar, task)
                    await asyncio.sleep(0.25)
            finally:
                self._refresh(bar, task)
                self._bar = None

    def _refresh(self, bar: Progress, task: TaskID) -> None:
        line = status_line(self.progress)
        bar.update(task, completed=self.progress.finished, line=line)
        bar.refresh()

    def summary(self, gate: GateStats | None, results: Path | None) -> None:
        from rich.table import Table

        p = self.progress
        table = Table(title="pycodex batch", title_justify="left", show_edge=False)
        table.add_column("tasks", justify="left")
        table.add_column("count", justify="right")
        for label, count in (
            ("completed", p.completed),
            ("failed", p.failed),
            ("timed out", p.timed_out),
            ("cancelled", p.cancelled),
            ("not started", p.total - p.finished - p.running),
            ("done in an earlier run", p.earlier),
        ):
            table.add_row(label, str(count))
        console = self._console()
        console.print(table)
        elapsed = time.monotonic() - p.started_at
        lines = [
            f"{format_duration(elapsed)} · {rate(p):.2f} tasks/s · {format_count(p.tokens)} "
            f"tokens · {p.retried} retries"
        ]
        if gate is not None:
            lines.append(
                f"model requests: {gate.requests} · most at once: {gate.peak_in_flight} · "
                f"rate limited {gate.rate_limited} times, paused {gate.paused_s:.1f}s"
            )
        if results is not None:
            lines.append(f"results: {results}")
        for line in lines:  # whole lines, whatever the width: logs are searched
            console.print(line, soft_wrap=True, markup=False)

    def _console(self) -> Console:
        from rich.console import Console

        return Console(file=self.stream, highlight=False, force_terminal=self.live or None)
