"""The memory pipeline's background check: what a session pays with `[features] memories` on.

Method: a `$CODEX_HOME` with N session files in the eligibility window, half `exec` and half
interactive ones already mined (the steady state of a busy machine). Measured in the same run,
taking turns:

- the floor: walking `sessions/YYYY/MM/DD/` and `stat`-ing every file, nothing else;
- `has_work`: the check every session start runs on its own thread (the same walk, one SQLite
  read of the jobs and skipped sessions, the consolidation job).

Reported: both medians and their ratio; and, once, the first check on a fresh store (it opens
each new file's first line once and remembers the ones that can never be mined).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.common import Table, interleaved_medians, use_test_support

SESSIONS = 2000
RUNS = 7


def _home(root: Path) -> Path:
    use_test_support()
    from support.memories import write_session

    home = root / "home"
    for index in range(SESSIONS):
        source = "exec" if index % 2 else "cli"
        write_session(home, user=f"task {index}", assistant="done", source=source)
    return home


def _mine_everything(home: Path) -> None:
    from pycodex.config.memories import MemoriesConfig
    from pycodex.memories.scan import eligible_sessions
    from pycodex.memories.store import MemoryStore

    store = MemoryStore.open(home / "memories_v2.sqlite")
    now = time.time()
    found = eligible_sessions(
        store, home / "sessions", MemoriesConfig(min_rollout_idle_hours=1), now
    )
    for claim in store.claim_stage1(found, len(found), now):
        store.stage1_succeeded(claim, None, now)
    store.close()


def run(table: Table) -> None:
    from pycodex.config import Config
    from pycodex.config.memories import MemoriesConfig
    from pycodex.memories.background import has_work
    from pycodex.memories.layout import memory_paths

    with tempfile.TemporaryDirectory() as directory:
        home = _home(Path(directory))
        config = Config(
            codex_home=home, cwd=home, features={"memories": True},
            memories=MemoriesConfig(min_rollout_idle_hours=1),
        )  # fmt: skip
        paths = memory_paths(home)
        started = time.perf_counter()
        first = has_work(config, paths, "none", time.time())
        cold = time.perf_counter() - started
        _mine_everything(home)

        def walk() -> None:
            for year in os.scandir(home / "sessions"):
                for month in os.scandir(year.path):
                    for day in os.scandir(month.path):
                        for entry in os.scandir(day.path):
                            entry.stat()

        medians = interleaved_medians(
            {
                "walk": walk,
                "check": lambda: has_work(config, paths, "none", time.time()),
            },
            RUNS,
        )
        assert first and not has_work(config, paths, "none", time.time())
    ratio = medians["check"] / medians["walk"]
    table.add(
        f"memories: background check, {SESSIONS} sessions",
        f"{medians['check'] * 1000:.1f} ms",
        f"{ratio:.2f}x walking and stat-ing the same files ({medians['walk'] * 1000:.1f} ms); "
        "on its own thread, the session does not wait",
    )
    table.add(
        f"memories: first check, {SESSIONS} new sessions",
        f"{cold * 1000:.0f} ms",
        "reads each new file's first line once",
    )
