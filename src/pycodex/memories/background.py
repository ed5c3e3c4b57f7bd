"""Starting the pipeline from a session without slowing the session down.

When a session starts (the REPL or `pycodex exec`) with `[features] memories` on and a session
file being recorded, `start_background_update` looks, on a thread of its own, whether there is
work: an eligible session to mine, or a consolidation that is due. Only then does it start
`pycodex memories update --background` as a detached process (its own session and process
group, stdin and stdout closed, stderr appended to `$CODEX_HOME/log/memories.log`).

Detached on purpose: `pycodex exec` ends as soon as its turn does, and work that lived inside it
would be lost (upstream's exec leaves its consolidation job failed, to be retried an hour later).
The worker finishes on its own; if it is killed, its lock goes with it and its leases are seen to
be dead (`store.lease_held`), so the next start takes the work over. Only one worker runs per
`$CODEX_HOME`: a second one finds the lock taken and exits at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from pycodex.config import Config
from pycodex.memories.layout import MemoryPaths, memory_paths

WORKER_ARGS = ("memories", "update", "--background")


def start_background_update(config: Config, thread_id: str) -> threading.Thread | None:
    """Check for memory work off the caller's path and start a worker when there is some.

    Returns the checking thread (join it before exiting to be sure the worker was started), or
    None when memories are off or the session is ephemeral."""
    if not config.memories_enabled or config.ephemeral:
        return None
    checker = threading.Thread(
        target=_check_and_spawn, args=(config, thread_id), name="pycodex-memories", daemon=True
    )
    checker.start()
    return checker


def _check_and_spawn(config: Config, thread_id: str) -> None:
    paths = memory_paths(config.codex_home)
    try:
        if has_work(config, paths, thread_id, time.time()):
            spawn_worker(config, paths, thread_id)
    except Exception as err:  # a memory problem must never disturb the session
        _log(paths, f"memories: background check failed: {type(err).__name__}: {err}")


def has_work(config: Config, paths: MemoryPaths, thread_id: str, now: float) -> bool:
    from pycodex.memories.scan import eligible_sessions
    from pycodex.memories.store import GLOBAL_KEY, PHASE2, MemoryStore, phase2_skip_reason

    store = MemoryStore.open(paths.database)
    try:
        if eligible_sessions(store, paths.sessions, config.memories, now, exclude=thread_id):
            return True
        job = store.job(PHASE2, GLOBAL_KEY)
        newest = store.newest_output()
    finally:
        store.close()
    if phase2_skip_reason(job, newest, now) is not None:
        return False
    if job is None or job.status != "done":
        return newest is not None or _notes_changed_since(paths, 0.0)
    fresh = newest is not None and (job.watermark is None or newest > job.watermark)
    return fresh or _notes_changed_since(paths, job.finished_at or 0.0)


def _notes_changed_since(paths: MemoryPaths, moment: float) -> bool:
    """A note was added or removed after `moment` (the notes folder's mtime)."""
    try:
        return paths.notes.stat().st_mtime > moment
    except OSError:
        return False


def worker_command(config: Config, thread_id: str) -> list[str]:
    """`pycodex memories update --background` for this session's model and provider."""
    command = [sys.executable, "-m", "pycodex", *WORKER_ARGS, "--thread", thread_id]
    command += ["-m", config.model, "-c", f"model_provider={json.dumps(config.model_provider_id)}"]
    if config.profile:
        command += ["-p", config.profile]
    return command


def spawn_worker(config: Config, paths: MemoryPaths, thread_id: str) -> None:
    paths.log.parent.mkdir(parents=True, exist_ok=True)
    with paths.log.open("ab") as log:
        process = subprocess.Popen(
            worker_command(config, thread_id),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=config.codex_home,
            env={**os.environ, "CODEX_HOME": str(config.codex_home)},
            start_new_session=True,
            close_fds=True,
        )
    # Reaped by a daemon thread, so a long-lived REPL leaves no zombie; a process that exits
    # first (exec) simply leaves the worker to init.
    threading.Thread(target=process.wait, name="pycodex-memories-reaper", daemon=True).start()


def _log(paths: MemoryPaths, line: str) -> None:
    try:
        paths.log.parent.mkdir(parents=True, exist_ok=True)
        with paths.log.open("a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
    except OSError:
        return
