"""The memory pipeline's SQLite database, `$CODEX_HOME/memories_v2.sqlite`.

Three tables:

- `jobs`: one row per unit of work, keyed by kind and key. Stage one has one job per session
  (`memory_stage1`, the thread id), consolidation one global job (`memory_consolidate_global`,
  `global`). A job being worked on is `running` with an owner (`host/pid/token`) and a lease;
  it ends `done` or `error` (with `retry_at`). A lease counts as held until it expires, or at
  once when its owner is a process of this host that no longer exists: a crashed or killed
  worker leaves a job the next run takes over.
- `stage1_outputs`: the latest summary of each mined session, with the file time it was made
  from (`source_updated_at`): a session is mined again only once its file changed.
- `skipped_threads`: sessions that can never be mined (an `exec` or sub-agent session, or one
  recorded with memories disabled), so each scan reads their first line only once.

Claims run inside `BEGIN IMMEDIATE`, so two processes never claim the same job.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from pycodex._records import dataclass

STAGE1 = "memory_stage1"
PHASE2 = "memory_consolidate_global"
GLOBAL_KEY = "global"
MAX_STAGE1_ATTEMPTS = 3
STAGE1_LEASE_S = 3600.0
PHASE2_LEASE_S = 2 * 3600.0
RETRY_DELAY_S = 3600.0
PHASE2_COOLDOWN_S = 6 * 3600.0
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    kind TEXT NOT NULL,
    job_key TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT,
    lease_until REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at REAL,
    last_error TEXT,
    source_updated_at REAL,
    watermark REAL,
    finished_at REAL,
    PRIMARY KEY (kind, job_key)
);
CREATE TABLE IF NOT EXISTS stage1_outputs (
    thread_id TEXT PRIMARY KEY,
    source_updated_at REAL NOT NULL,
    rollout_path TEXT NOT NULL,
    cwd TEXT NOT NULL,
    started_at TEXT NOT NULL,
    rollout_summary TEXT NOT NULL,
    rollout_slug TEXT NOT NULL,
    generated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS skipped_threads (
    thread_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL
);
"""
_JOB_COLUMNS = (
    "status, owner, lease_until, attempts, retry_at, last_error, source_updated_at, watermark, "
    "finished_at"
)


@dataclass(frozen=True)
class Job:
    status: str  # running | done | error
    owner: str | None
    lease_until: float | None
    attempts: int
    retry_at: float | None
    last_error: str | None
    source_updated_at: float | None
    watermark: float | None
    finished_at: float | None

    def held(self, now: float) -> bool:
        """Whether another worker is on this job right now."""
        return self.status == "running" and lease_held(self.owner, self.lease_until, now)


@dataclass(frozen=True)
class Candidate:
    """A session file that may be mined: its thread id, path and modification time."""

    thread_id: str
    path: Path
    mtime: float


@dataclass(frozen=True)
class Stage1Output:
    thread_id: str
    source_updated_at: float
    rollout_path: str
    cwd: str
    # When the session started (UTC, ISO-8601): the summary file's name begins with it.
    started_at: str
    rollout_summary: str
    rollout_slug: str
    generated_at: float


@dataclass(frozen=True)
class Phase2Claim:
    # The newest stage-one output this run consolidates (recorded on success).
    watermark: float


def new_owner() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


def lease_held(owner: str | None, lease_until: float | None, now: float) -> bool:
    """Unexpired, and (when the owner is a process of this host) its process still exists."""
    if owner is None or lease_until is None or lease_until <= now:
        return False
    host, _, rest = owner.partition("/")
    pid_text = rest.partition("/")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    return _process_exists(int(pid_text))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def needs_mining(job: Job | None, mtime: float, now: float, *, force: bool = False) -> bool:
    """Whether a session whose file has `mtime` should be (re)mined, given its stage-one job.

    Not while another worker holds it; not when that version of the file was mined already or
    failed `MAX_STAGE1_ATTEMPTS` times; not before a failed job's retry time (unless `force`)."""
    if job is None:
        return True
    if job.held(now):
        return False
    same_version = job.source_updated_at is not None and job.source_updated_at >= mtime
    if same_version and job.status == "done":
        return False
    if same_version and job.status != "done" and job.attempts >= MAX_STAGE1_ATTEMPTS:
        return False
    return not (job.status == "error" and not force and (job.retry_at or 0) > now)


class MemoryStore:
    """One connection to the database; `owner` names this process in the leases it takes."""

    def __init__(self, connection: sqlite3.Connection, owner: str | None = None) -> None:
        self._db = connection
        self.owner = owner or new_owner()

    @classmethod
    def open(cls, path: Path, owner: str | None = None) -> MemoryStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        connection.executescript(_SCHEMA)
        return cls(connection, owner)

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- reading ------------------------------------------------------------------------------

    def job(self, kind: str, key: str) -> Job | None:
        row = self._db.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE kind = ? AND job_key = ?", (kind, key)
        ).fetchone()
        return Job(*row) if row is not None else None

    def stage1_jobs(self) -> dict[str, Job]:
        rows = self._db.execute(
            f"SELECT job_key, {_JOB_COLUMNS} FROM jobs WHERE kind = ?", (STAGE1,)
        ).fetchall()
        return {row[0]: Job(*row[1:]) for row in rows}

    def skipped(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT thread_id FROM skipped_threads")}

    def outputs(self, limit: int) -> list[Stage1Output]:
        """The stage-one outputs consolidation works from: the most recent sessions first."""
        rows = self._db.execute(
            "SELECT thread_id, source_updated_at, rollout_path, cwd, started_at, "
            "rollout_summary, rollout_slug, generated_at FROM stage1_outputs "
            "ORDER BY source_updated_at DESC, thread_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [Stage1Output(*row) for row in rows]

    def newest_output(self) -> float | None:
        row = self._db.execute("SELECT MAX(generated_at) FROM stage1_outputs").fetchone()
        return None if row is None else row[0]

    # --- stage one ----------------------------------------------------------------------------

    def skip(self, skipped: Sequence[tuple[str, str]]) -> None:
        """Remember (thread id, reason) pairs of sessions that can never be mined."""
        if not skipped:
            return
        with self._transaction() as db:  # one commit (one fsync) for the whole batch
            db.executemany(
                "INSERT OR REPLACE INTO skipped_threads (thread_id, reason) VALUES (?, ?)",
                skipped,
            )

    def claim_stage1(
        self, candidates: Sequence[Candidate], limit: int, now: float, *, force: bool = False
    ) -> list[Candidate]:
        """Take up to `limit` of `candidates` (in order) that still need mining."""
        claimed: list[Candidate] = []
        with self._transaction() as db:
            for candidate in candidates:
                if len(claimed) >= limit:
                    break
                job = self.job(STAGE1, candidate.thread_id)
                if not needs_mining(job, candidate.mtime, now, force=force):
                    continue
                same = job is not None and job.source_updated_at == candidate.mtime
                attempts = (job.attempts if job is not None and same else 0) + 1
                db.execute(
                    "INSERT OR REPLACE INTO jobs (kind, job_key, status, owner, lease_until, "
                    "attempts, retry_at, last_error, source_updated_at, watermark, finished_at) "
                    "VALUES (?, ?, 'running', ?, ?, ?, NULL, NULL, ?, NULL, NULL)",
                    (STAGE1, candidate.thread_id, self.owner, now + STAGE1_LEASE_S, attempts,
                     candidate.mtime),
                )  # fmt: skip
                claimed.append(candidate)
        return claimed

    def stage1_succeeded(
        self, candidate: Candidate, output: Stage1Output | None, now: float
    ) -> bool:
        """Record a finished extraction (None: the session held nothing worth keeping).
        False when the lease was lost meanwhile: the result is dropped."""
        with self._transaction() as db:
            if not self._owns(STAGE1, candidate.thread_id):
                return False
            db.execute(
                "UPDATE jobs SET status = 'done', owner = NULL, lease_until = NULL, "
                "last_error = NULL, retry_at = NULL, finished_at = ? "
                "WHERE kind = ? AND job_key = ?",
                (now, STAGE1, candidate.thread_id),
            )
            if output is not None:
                db.execute(
                    "INSERT OR REPLACE INTO stage1_outputs (thread_id, source_updated_at, "
                    "rollout_path, cwd, started_at, rollout_summary, rollout_slug, generated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (output.thread_id, output.source_updated_at, output.rollout_path,
                     output.cwd, output.started_at, output.rollout_summary,
                     output.rollout_slug, output.generated_at),
                )  # fmt: skip
        return True

    def stage1_failed(self, thread_id: str, reason: str, now: float) -> None:
        self._fail(STAGE1, thread_id, reason, now)

    # --- consolidation ------------------------------------------------------------------------

    def claim_phase2(self, now: float, *, force: bool = False) -> Phase2Claim | str:
        """The global consolidation job, or why it is not taken now: `running` (another
        worker has it), `retry_later` (it failed less than `RETRY_DELAY_S` ago), `cooldown`
        (it succeeded less than `PHASE2_COOLDOWN_S` ago and no new summary arrived since).
        `force` (`pycodex memories update`) ignores the last two."""
        with self._transaction() as db:
            job = self.job(PHASE2, GLOBAL_KEY)
            newest = self.newest_output()
            reason = phase2_skip_reason(job, newest, now, force=force)
            if reason is not None:
                return reason
            db.execute(
                "INSERT OR REPLACE INTO jobs (kind, job_key, status, owner, lease_until, "
                "attempts, retry_at, last_error, source_updated_at, watermark, finished_at) "
                "VALUES (?, ?, 'running', ?, ?, ?, NULL, NULL, NULL, ?, ?)",
                (PHASE2, GLOBAL_KEY, self.owner, now + PHASE2_LEASE_S,
                 (job.attempts if job is not None else 0) + 1,
                 job.watermark if job is not None else None,
                 job.finished_at if job is not None else None),
            )  # fmt: skip
        return Phase2Claim(watermark=newest or 0.0)

    def phase2_succeeded(self, claim: Phase2Claim, now: float) -> bool:
        with self._transaction() as db:
            if not self._owns(PHASE2, GLOBAL_KEY):
                return False
            db.execute(
                "UPDATE jobs SET status = 'done', owner = NULL, lease_until = NULL, attempts = 0, "
                "last_error = NULL, retry_at = NULL, watermark = ?, finished_at = ? "
                "WHERE kind = ? AND job_key = ?",
                (claim.watermark, now, PHASE2, GLOBAL_KEY),
            )
        return True

    def phase2_failed(self, reason: str, now: float) -> None:
        self._fail(PHASE2, GLOBAL_KEY, reason, now)

    # --- shared -------------------------------------------------------------------------------

    def _owns(self, kind: str, key: str) -> bool:
        job = self.job(kind, key)
        return job is not None and job.status == "running" and job.owner == self.owner

    def _fail(self, kind: str, key: str, reason: str, now: float) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET status = 'error', owner = NULL, lease_until = NULL, "
                "last_error = ?, retry_at = ?, finished_at = ? "
                "WHERE kind = ? AND job_key = ? AND owner = ?",
                (reason, now + RETRY_DELAY_S, now, kind, key, self.owner),
            )

    def clear(self) -> None:
        """Forget every job and output (`pycodex debug clear-memories`)."""
        with self._transaction() as db:
            db.execute("DELETE FROM jobs")
            db.execute("DELETE FROM stage1_outputs")
            db.execute("DELETE FROM skipped_threads")


def phase2_skip_reason(
    job: Job | None, newest: float | None, now: float, *, force: bool = False
) -> str | None:
    """Why consolidation should not run now, or None when it should be tried."""
    if job is None:
        return None
    if job.held(now):
        return "running"
    if force:
        return None
    if job.status == "error" and (job.retry_at or 0) > now:
        return "retry_later"
    fresh = newest is not None and (job.watermark is None or newest > job.watermark)
    recent = job.finished_at is not None and job.finished_at + PHASE2_COOLDOWN_S > now
    if job.status == "done" and recent and not fresh:
        return "cooldown"
    return None
