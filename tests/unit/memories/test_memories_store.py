"""Leases, retries and the consolidation job in `memories_v2.sqlite`."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from pycodex.memories.store import (
    GLOBAL_KEY,
    MAX_STAGE1_ATTEMPTS,
    PHASE2,
    PHASE2_COOLDOWN_S,
    RETRY_DELAY_S,
    STAGE1,
    Candidate,
    MemoryStore,
    Phase2Claim,
    Stage1Output,
    lease_held,
)

NOW = 1_750_000_000.0


def candidates(count: int) -> list[Candidate]:
    return [Candidate(f"thread-{n}", Path(f"/s/{n}.jsonl"), NOW - 7200 - n) for n in range(count)]


def output(candidate: Candidate) -> Stage1Output:
    return Stage1Output(
        candidate.thread_id, candidate.mtime, str(candidate.path), "/p", "2025-01-01T00:00:00Z",
        "summary\n", "slug", NOW,
    )  # fmt: skip


def test_concurrent_claims_never_share_a_session(tmp_path: Path) -> None:
    database = tmp_path / "m.sqlite"
    work = candidates(40)
    start = threading.Barrier(4)
    taken: list[list[Candidate]] = []

    def claimer() -> None:
        store = MemoryStore.open(database)
        start.wait()
        mine: list[Candidate] = []
        for _ in range(20):
            mine += store.claim_stage1(work, 3, NOW)
        taken.append(mine)
        store.close()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [c.thread_id for mine in taken for c in mine]
    assert sorted(everything) == sorted(c.thread_id for c in work)  # all, each exactly once


def test_a_mined_version_is_not_mined_again_until_the_file_changes(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "m.sqlite")
    [first] = store.claim_stage1(candidates(1), 5, NOW)
    assert store.stage1_succeeded(first, output(first), NOW)
    assert store.claim_stage1([first], 5, NOW + 10) == []
    newer = Candidate(first.thread_id, first.path, first.mtime + 100)
    assert store.claim_stage1([newer], 5, NOW + 10) == [newer]
    assert [o.thread_id for o in store.outputs(10)] == [first.thread_id]


def test_failures_wait_for_the_retry_delay_and_give_up_after_three(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "m.sqlite")
    [job] = candidates(1)
    for attempt in range(1, MAX_STAGE1_ATTEMPTS + 1):
        now = NOW + (attempt - 1) * RETRY_DELAY_S
        assert store.claim_stage1([job], 5, now) == [job]
        store.stage1_failed(job.thread_id, "boom", now)
        stored = store.job(STAGE1, job.thread_id)
        assert stored is not None and (stored.status, stored.attempts) == ("error", attempt)
        assert stored.retry_at == now + RETRY_DELAY_S and stored.last_error == "boom"
        assert store.claim_stage1([job], 5, now + RETRY_DELAY_S - 1) == []
    later = NOW + 10 * RETRY_DELAY_S
    assert store.claim_stage1([job], 5, later, force=True) == []  # gave up on this version
    changed = Candidate(job.thread_id, job.path, job.mtime + 1)
    assert store.claim_stage1([changed], 5, later) == [changed]


def test_update_on_demand_retries_a_failed_job_at_once(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "m.sqlite")
    [job] = store.claim_stage1(candidates(1), 1, NOW)
    store.stage1_failed(job.thread_id, "boom", NOW)
    assert store.claim_stage1([job], 1, NOW + 1) == []
    assert store.claim_stage1([job], 1, NOW + 1, force=True) == [job]


def test_the_lease_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    import socket

    owner = f"{socket.gethostname()}/{dead.stdout.strip()}/abcd"
    assert not lease_held(owner, NOW + 3600, NOW)
    assert lease_held(f"other-host/{dead.stdout.strip()}/abcd", NOW + 3600, NOW)
    crashed = MemoryStore.open(tmp_path / "m.sqlite", owner=owner)
    [job] = crashed.claim_stage1(candidates(1), 1, NOW)
    live = MemoryStore.open(tmp_path / "m.sqlite")
    assert live.claim_stage1([job], 1, NOW + 1) == [job]
    assert not crashed.stage1_succeeded(job, output(job), NOW + 2)  # it lost the job


def test_a_live_lease_blocks_another_worker(tmp_path: Path) -> None:
    first = MemoryStore.open(tmp_path / "m.sqlite")
    second = MemoryStore.open(tmp_path / "m.sqlite")
    [job] = first.claim_stage1(candidates(1), 1, NOW)
    assert second.claim_stage1([job], 1, NOW + 1) == []
    assert isinstance(first.claim_phase2(NOW), Phase2Claim)
    assert second.claim_phase2(NOW + 1) == "running"


def test_consolidation_cooldown_retry_and_new_inputs(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "m.sqlite")
    claim = store.claim_phase2(NOW)
    assert isinstance(claim, Phase2Claim)
    store.phase2_failed("failed_agent", NOW)
    assert store.claim_phase2(NOW + 60) == "retry_later"
    claim = store.claim_phase2(NOW + 60, force=True)
    assert isinstance(claim, Phase2Claim)
    assert store.phase2_succeeded(claim, NOW + 60)
    assert store.claim_phase2(NOW + 120) == "cooldown"
    [job] = store.claim_stage1(candidates(1), 1, NOW + 130)
    store.stage1_succeeded(job, output(job), NOW + 130)  # a new summary arrived
    assert isinstance(store.claim_phase2(NOW + 140), Phase2Claim)
    stored = store.job(PHASE2, GLOBAL_KEY)
    assert stored is not None and stored.status == "running"
    assert PHASE2_COOLDOWN_S == 6 * 3600


def test_clear_forgets_everything(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "m.sqlite")
    [job] = store.claim_stage1(candidates(1), 1, NOW)
    store.stage1_succeeded(job, output(job), NOW)
    store.skip([("exec-thread", "source exec")])
    store.clear()
    assert store.outputs(10) == [] and store.stage1_jobs() == {} and store.skipped() == set()
