"""Memories around sessions: the switches that turn them off, `--ephemeral`, `generate_memories`,
`debug clear-memories`, concurrent updates, the detached worker `exec` leaves behind, and what a
session without memories loads (docs/memories.md)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pycodex.config.memories import MemoriesConfig
from pycodex.execution.sandbox import sandbox_status
from pycodex.memories.scan import eligible_sessions
from pycodex.memories.store import MemoryStore
from support import sse_builders as sse
from support.cli import cli_env, run_cli, write_config
from support.fake_server import FakeModelServer, RecordedRequest
from support.fake_server import user_message_contains as user_says
from support.memories import (
    MEMORY_CONFIG,
    SUMMARY,
    consolidation_job,
    first_input,
    has_memory,
    is_stage_one,
    lock_is_free,
    memories_home,
    short_agent,
    stage_one_reply,
    update,
    wait_for_pipeline,
    write_session,
    write_summary,
)

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason="no sandbox mechanism on this machine"
)


@pytest.mark.parametrize(
    ("extra", "features", "injected"),
    [
        ("", {"memories": True}, True),
        ("use_memories = false\n", {"memories": True}, False),
        ("", {"memories": False}, False),
    ],
    ids=["on", "use_memories-false", "feature-off"],
)
def test_the_summary_reaches_new_sessions_only_when_memories_are_used(
    tmp_path: Path,
    fake_server: FakeModelServer,
    work: Path,
    extra: str,
    features: dict[str, bool],
    injected: bool,
) -> None:
    home = tmp_path / "codex-home"
    write_config(home, fake_server, extra=MEMORY_CONFIG + extra, features=features)
    write_summary(home)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"))
    result = run_cli(["exec", "--skip-git-repo-check", "hello"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert has_memory(first_input(fake_server)) is injected
    if not features["memories"]:
        # Feature off: not even the background check ran.
        assert not (home / "memories_v2.sqlite").exists()
        refused = run_cli(["memories", "update"], codex_home=home, cwd=work)
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: memories are off;")


def test_an_ephemeral_session_starts_no_memory_work(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server)
    write_session(home, user="ELIGIBLE-TASK", assistant="done")
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"))
    args = ["exec", "--ephemeral", "--skip-git-repo-check", "hello"]
    result = run_cli(args, codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert len(fake_server.requests) == 1
    assert not (home / "memories_v2.sqlite").exists()  # no check, so no worker either


def test_sessions_recorded_with_generate_memories_false_are_never_mined(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server, "generate_memories = false\n")
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"))
    result = run_cli(["hello"], codex_home=home, cwd=work)  # the interactive agent, piped
    assert result.returncode == 0, result.stderr
    [session] = (home / "sessions").rglob("rollout-*.jsonl")
    meta = json.loads(session.read_text().splitlines()[0])["payload"]
    assert meta["source"] == "cli" and meta["memory_mode"] == "disabled"
    past = time.time() - 3 * 3600
    os.utime(session, (past, past))
    store = MemoryStore.open(home / "memories_v2.sqlite")
    config = MemoriesConfig(min_rollout_idle_hours=1)
    assert eligible_sessions(store, home / "sessions", config, time.time()) == []
    assert store.skipped() == {meta["id"]}
    store.close()


def test_clear_memories_empties_the_folder_and_the_store(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server)
    write_session(home, user="ELIGIBLE-TASK", assistant="done")
    fake_server.expect_sse(
        "/v1/responses", stage_one_reply("notes", "task"), when=user_says("ELIGIBLE-TASK")
    )
    short_agent(fake_server)
    assert update(home, work).returncode == 0

    cleared = run_cli(["debug", "clear-memories"], codex_home=home, cwd=work)

    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout == (
        f"Cleared memory state from {home}/memories_v2.sqlite. "
        f"Cleared memory directories under {home}.\n"
    )
    root = home / "memories_v2"
    assert root.is_dir() and list(root.iterdir()) == []
    with sqlite3.connect(home / "memories_v2.sqlite") as db:
        for table in ("jobs", "stage1_outputs"):
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"), when=user_says("NEXT"))
    nxt = run_cli(
        ["exec", "--ephemeral", "--skip-git-repo-check", "NEXT"], codex_home=home, cwd=work
    )
    assert nxt.returncode == 0 and not has_memory(first_input(fake_server))


def test_two_concurrent_updates_never_mine_the_same_session(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server, "max_rollouts_per_startup = 5\n")
    markers = [f"TASK-{n}" for n in range(3)]
    for marker in markers:
        write_session(home, user=marker, assistant="done")
        fake_server.expect_sse(
            "/v1/responses", stage_one_reply(f"notes on {marker}", marker), when=user_says(marker)
        )
    short_agent(fake_server)
    env = cli_env(home)
    command = [sys.executable, "-m", "pycodex", "memories", "update"]
    processes = [
        subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    stage_one = [r for r in fake_server.requests if is_stage_one(r)]
    mined = sorted(m for r in stage_one for m in markers if m in json.dumps(r.json()["input"]))
    assert mined == markers  # each session exactly once, across both processes
    lines = [line for out in outputs for line in out.splitlines() if line.startswith("mined")]
    assert len(lines) == 3
    assert len(list((home / "memories_v2" / "rollout_summaries").iterdir())) == 3


def test_exec_leaves_memory_work_to_a_detached_worker_that_finishes_it(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server)
    write_session(home, user="ELIGIBLE-TASK", assistant="done")
    fake_server.expect_sse(
        "/v1/responses", sse.assistant_reply("main answer"), when=user_says("MAIN")
    )
    release = threading.Event()

    def held_stage_one(_request: RecordedRequest) -> list[dict[str, Any]]:
        release.wait(60)  # answers only once exec has exited
        return stage_one_reply("notes", "task")

    fake_server.expect_sse_from("/v1/responses", held_stage_one, when=user_says("ELIGIBLE-TASK"))
    short_agent(fake_server)

    result = run_cli(["exec", "--json", "--skip-git-repo-check", "MAIN"], codex_home=home, cwd=work)

    assert result.returncode == 0, result.stderr
    assert result.events()[-1]["type"] == "turn.completed"
    arrived = fake_server.wait_for_requests(2)  # the worker's stage one is in flight, unanswered
    assert [is_stage_one(request) for request in arrived].count(True) == 1
    assert not lock_is_free(home)  # exec is gone; its memory work lives on in the worker
    release.set()
    wait_for_pipeline(home)
    assert (home / "memories_v2" / "memory_summary.md").read_text() == SUMMARY
    assert consolidation_job(home)[0] == "done"
    log = (home / "log" / "memories.log").read_text()
    assert "consolidation: memory_summary.md updated" in log


LOADED_MODULES = """
import json, sys
from pycodex.cli.main import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump(sorted(sys.modules), out)
sys.exit(code)
"""


def test_exec_without_memories_loads_none_of_their_machinery(
    tmp_path: Path, fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"))
    listing = tmp_path / "modules.json"
    args = ["exec", "--skip-git-repo-check", "hello"]
    subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, str(listing), *args],
        cwd=work, env=cli_env(home), capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    loaded = json.loads(listing.read_text())
    assert [m for m in loaded if m.startswith(("pycodex.memories", "sqlite3", "_sqlite3"))] == []
    assert "pycodex.context.memory_summary" not in loaded


def test_a_damaged_store_is_one_line_and_never_breaks_a_session(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server)
    (home / "memories_v2.sqlite").write_bytes(b"this is not a database" * 100)
    result = update(home, work)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: memory store {home}/memories_v2.sqlite: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"))
    session = run_cli(["exec", "--skip-git-repo-check", "hello"], codex_home=home, cwd=work)
    assert session.returncode == 0 and session.stdout == "hi\n"
    assert "background check failed" in (home / "log" / "memories.log").read_text()
