"""`pycodex debug clear-memories`: forget everything the memory pipeline learned.

Empties the memory folder (the folder itself stays) and deletes every job, stage-one output and
remembered skip from `memories_v2.sqlite`. Session files are not touched, and a session recorded
with memories disabled stays so. Refused while a pipeline run holds the lock: it would write the
folder again right after.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pycodex.memories import lock
from pycodex.memories.layout import memory_paths
from pycodex.memories.store import MemoryStore


class MemoriesBusyError(Exception):
    """A pipeline run holds the lock; `str()` is one line."""


def clear_memories(codex_home: Path) -> str:
    """Clear it all; the line to show the user."""
    paths = memory_paths(codex_home)
    held = lock.acquire(paths.lock, wait=False)
    if held is None:
        pid = lock.holder(paths.lock)
        running = f" (process {pid})" if pid is not None else ""
        raise MemoriesBusyError(
            f"a memory update is running{running}; try again once it has finished"
        )
    with held:
        if paths.database.exists():
            store = MemoryStore.open(paths.database)
            try:
                store.clear()
            finally:
                store.close()
        if paths.root.is_dir():
            for child in paths.root.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
    return (
        f"Cleared memory state from {paths.database}. "
        f"Cleared memory directories under {codex_home}."
    )
