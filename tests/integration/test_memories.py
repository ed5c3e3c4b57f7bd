"""Memories end to end: `pycodex memories update`, the consolidation agent in its sandbox, the
summary given to the next session, and the switches that turn it all off (docs/memories.md).

Past sessions are real rollout files, backdated; the model is the content-routing fake server:
stage one is told apart by its JSON schema, the consolidation agent by its prompt.
"""

from __future__ import annotations

import fcntl
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

from pycodex.execution.sandbox import sandbox_status
from support import sse_builders as sse
from support.cli import CliResult, cli_env, run_cli, write_config
from support.fake_server import FakeModelServer, RecordedRequest, body_contains
from support.fake_server import user_message_contains as user_says
from support.memories import MEMORY_CONFIG, wait_for_pipeline, write_session

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason="no sandbox mechanism on this machine"
)

AGENT = body_contains("You maintain a memory folder")
SUMMARY = """v1
## User Profile
Works on a Python parser (ELIGIBLE-TASK).
## User preferences
- Wants small commits.
## General Tips
- Run `make test` before committing.
## What's in Memory
- rollout_summaries/: the parser fix.
"""


def memories_home(tmp_path: Path, server: FakeModelServer, extra: str = "") -> Path:
    home = tmp_path / "codex-home"
    write_config(home, server, extra=MEMORY_CONFIG + extra, features={"memories": True})
    return home


def add_file_patch(path: str, text: str) -> str:
    body = "".join(f"+{line}\n" for line in text.splitlines())
    return f"*** Begin Patch\n*** Add File: {path}\n{body}*** End Patch"


def exec_call(cmd: str, call_id: str) -> list[dict[str, Any]]:
    return sse.tool_calls(
        sse.function_call("exec_command", json.dumps({"cmd": cmd}), call_id=call_id)
    )


def patch_call(patch: str, call_id: str) -> list[dict[str, Any]]:
    return sse.tool_calls(sse.custom_tool_call("apply_patch", patch, call_id=call_id))


def stage_one_reply(summary: str, slug: str) -> list[dict[str, Any]]:
    answer = {"rollout_summary": summary, "rollout_slug": slug}
    return sse.assistant_reply(json.dumps(answer))


def is_stage_one(request: RecordedRequest) -> bool:
    text = request.json().get("text") or {}
    return "rollout_summary" in json.dumps(text.get("format") or {})


def is_agent(request: RecordedRequest) -> bool:
    return request.headers.get("x-openai-subagent") == "memory_consolidation"


def tool_output(request: RecordedRequest, call_id: str) -> str:
    for item in request.json()["input"]:
        if item.get("call_id") == call_id and item["type"].endswith("_output"):
            output = item["output"]
            return output if isinstance(output, str) else json.dumps(output)
    raise AssertionError(f"no output for {call_id}")


def script_agent(server: FakeModelServer, outside: Path, summary: str = SUMMARY) -> None:
    """The consolidation agent: reads the diff, tries to write outside its folder twice (shell
    and apply_patch), writes the summary, answers."""
    server.expect_sse("/v1/responses", exec_call("cat phase2_workspace_diff.md", "c1"), when=AGENT)
    server.expect_sse("/v1/responses", exec_call(f"echo leak > {outside}", "c2"), when=AGENT)
    escape = add_file_patch("../escaped.md", "x")
    server.expect_sse("/v1/responses", patch_call(escape, "c3"), when=AGENT)
    server.expect_sse(
        "/v1/responses", patch_call(add_file_patch("memory_summary.md", summary), "c4"), when=AGENT
    )
    server.expect_sse("/v1/responses", sse.assistant_reply("Summary written."), when=AGENT)


def update(home: Path, work: Path) -> CliResult:
    return run_cli(["memories", "update"], codex_home=home, cwd=work, timeout=120)


def test_update_mines_one_session_and_the_agent_writes_the_summary(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server)
    eligible, eligible_path = write_session(
        home,
        user="ELIGIBLE-TASK: fix the parser. My key is sk-proj-abcdefghijklmnopqrstuvwxyz123",
        assistant="Fixed the parser; ran make test.",
    )
    write_session(home, user="EXEC-TASK", assistant="done", source="exec")
    write_session(home, user="RECENT-TASK", assistant="done", idle_hours=0.2)
    fake_server.expect_sse(
        "/v1/responses",
        stage_one_reply("The user fixed a parser; `make test` checks it.", "Fix-Parser bug"),
        when=user_says("ELIGIBLE-TASK"),
    )
    outside = tmp_path / "outside.txt"
    script_agent(fake_server, outside)

    result = update(home, work)

    assert result.returncode == 0, result.stderr
    stage_one = [r for r in fake_server.requests if is_stage_one(r)]
    assert len(stage_one) == 1
    body = stage_one[0].json()
    assert body["tools"] == []
    assert body["reasoning"]["effort"] == "low"
    assert body["text"]["format"] == {
        "type": "json_schema",
        "strict": True,
        "name": "codex_output_schema",
        "schema": {
            "type": "object",
            "properties": {
                "rollout_summary": {"type": "string"},
                "rollout_slug": {"type": "string"},
            },
            "required": ["rollout_summary", "rollout_slug"],
            "additionalProperties": False,
        },
    }
    headers = stage_one[0].headers
    assert headers["x-openai-internal-codex-responses-lite"] == "true"
    metadata = json.loads(headers["x-codex-turn-metadata"])
    assert metadata["request_kind"] == "memory"
    assert metadata["thread_source"] == metadata["turn_trigger"] == "memory_consolidation"
    assert metadata["sandbox_mode"] == "read-only"
    [developer, user] = body["input"]
    assert developer["role"] == "developer"
    user_text = user["content"][0]["text"]
    assert str(eligible_path) in user_text
    assert "[human user]" in user_text and "[assistant final]" in user_text
    assert "[harness context]" in user_text and "sandboxed" not in user_text
    assert "sk-proj-abcdefghijklmnopqrstuvwxyz123" not in user_text
    assert "[REDACTED_SECRET]" in user_text

    root = home / "memories_v2"
    [summary_file] = (root / "rollout_summaries").iterdir()
    assert summary_file.name.endswith(f"-{eligible.replace('-', '')[-4:]}-fix_parser_bug.md")
    text = summary_file.read_text()
    assert text.startswith(f"thread_id: {eligible}\nupdated_at: ")
    assert f"rollout_path: {eligible_path}\ncwd: /home/user/project\n\n" in text
    assert text.endswith("The user fixed a parser; `make test` checks it.\n")

    agent = [r for r in fake_server.requests if is_agent(r)]
    assert len(agent) == 5
    ids = {
        (r.headers["session-id"], r.headers["thread-id"], r.json()["prompt_cache_key"])
        for r in agent
    }
    [(session_id, thread_id, cache_key)] = ids
    assert session_id == thread_id == cache_key
    assert cache_key != stage_one[0].json()["prompt_cache_key"]
    assert all(r.headers["x-openai-memgen-request"] == "true" for r in agent)
    assert json.loads(agent[0].headers["x-codex-turn-metadata"])["sandbox_mode"] == (
        "workspace-write"
    )
    diff_seen = tool_output(agent[1], "c1")
    assert "# Memory Workspace Diff" in diff_seen and "## Status" in diff_seen
    assert f"A rollout_summaries/{summary_file.name}" in diff_seen
    assert "Read-only file system" in tool_output(agent[2], "c2")
    assert not outside.exists()
    assert "Exit code: 0" not in tool_output(agent[3], "c3")
    assert not (home / "escaped.md").exists()
    assert "memory_summary.md" in tool_output(agent[4], "c4")

    assert (root / "memory_summary.md").read_text() == SUMMARY
    assert not (root / "phase2_workspace_diff.md").exists()
    log = _git(root, "log", "--format=%an <%ae> %s")
    assert log.splitlines() == ["pycodex <pycodex@localhost> pycodex memory baseline"] * 2
    assert _git(root, "status", "--porcelain") == ""
    assert f"mined {eligible}: rollout_summaries/{summary_file.name}" in result.stdout

    # The next session's first request carries the summary right after the base instructions.
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"), when=user_says("NEXT"))
    nxt = run_cli(["exec", "--skip-git-repo-check", "NEXT"], codex_home=home, cwd=work)
    assert nxt.returncode == 0, nxt.stderr
    first = fake_server.requests[-1].json()["input"][0]
    assert first["role"] == "developer"
    memory_text = first["content"][0]["text"]
    assert memory_text.startswith("## Memory")
    assert memory_text.endswith(
        f"========= MEMORY_SUMMARY BEGINS =========\n{SUMMARY.rstrip()}\n"
        "========= MEMORY_SUMMARY ENDS ========="
    )
    show = run_cli(["memories", "show"], codex_home=home, cwd=work)
    assert show.returncode == 0 and show.stdout == SUMMARY


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def short_agent(server: FakeModelServer, summary: str = SUMMARY) -> None:
    """A consolidation agent that writes `summary` at once and answers."""
    patch = add_file_patch("memory_summary.md", summary)
    server.expect_sse("/v1/responses", patch_call(patch, "w1"), when=AGENT)
    server.expect_sse("/v1/responses", sse.assistant_reply("Written."), when=AGENT)


def consolidation_job(home: Path) -> tuple[str, float | None, str | None]:
    with sqlite3.connect(home / "memories_v2.sqlite") as db:
        row = db.execute(
            "SELECT status, retry_at, last_error FROM jobs WHERE kind = 'memory_consolidate_global'"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_an_invalid_summary_is_rejected_and_the_next_update_retries(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server)
    write_session(home, user="ELIGIBLE-TASK", assistant="done")
    fake_server.expect_sse(
        "/v1/responses", stage_one_reply("notes", "task"), when=user_says("ELIGIBLE-TASK")
    )
    short_agent(fake_server, SUMMARY.replace("v1\n", "").replace("## General Tips", "## Tips"))

    first = update(home, work)

    assert first.returncode == 1
    assert "failed_invalid_artifacts: memory_summary.md must start with the line 'v1'" in (
        first.stdout
    )
    root = home / "memories_v2"
    assert not (root / "memory_summary.md").exists()  # never accepted, never injected
    assert not (root / "phase2_workspace_diff.md").exists()
    status, retry_at, error = consolidation_job(home)
    assert status == "error" and retry_at is not None and "v1" in (error or "")
    assert _git(root, "status", "--porcelain").startswith("A  rollout_summaries/")

    # `memories update` on demand retries at once; this time the summary passes.
    short_agent(fake_server)
    second = update(home, work)
    assert second.returncode == 0, second.stdout
    assert "no session to mine" in second.stdout
    assert (root / "memory_summary.md").read_text() == SUMMARY
    assert consolidation_job(home)[0] == "done"


def test_a_summary_without_a_heading_is_rejected(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server)
    write_session(home, user="ELIGIBLE-TASK", assistant="done")
    fake_server.expect_sse(
        "/v1/responses", stage_one_reply("notes", "task"), when=user_says("ELIGIBLE-TASK")
    )
    short_agent(fake_server, "v1\n## What's in Memory\n- nothing\n")
    result = update(home, work)
    assert result.returncode == 1
    assert "lacks the heading '## User Profile'" in result.stdout


def write_summary(home: Path, text: str = SUMMARY) -> None:
    root = home / "memories_v2"
    root.mkdir(parents=True, exist_ok=True)
    (root / "memory_summary.md").write_text(text, encoding="utf-8")


def first_input(server: FakeModelServer) -> list[dict[str, Any]]:
    return server.requests[-1].json()["input"]


def has_memory(items: list[dict[str, Any]]) -> bool:
    return "MEMORY_SUMMARY BEGINS" in json.dumps(items)


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
    mined = update(home, work)
    assert mined.returncode == 0, mined.stdout
    assert "no session to mine" in mined.stdout


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


def lock_is_free(home: Path) -> bool:
    fd = os.open(home / "memories_v2.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


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


THREE_SESSIONS = [
    (
        "PARSER: the parser tests are flaky, fix them. Keep commits small please.",
        "Fixed: the tests shared a global cache; reset it in a fixture. `pytest -q tests/parser`.",
        "The user fixed flaky parser tests (shared global cache, now reset by a fixture). "
        "Preference: small commits. Check: `pytest -q tests/parser`.",
        "fix_flaky_parser_tests",
    ),
    (
        "CSV: add CSV export to the report tool. Use the stdlib csv module, no pandas.",
        "Added `report export --csv` with csv.writer; docs updated.",
        "Added CSV export to the report tool with the stdlib `csv` module; the user rejects "
        "pandas for small jobs.",
        "report_csv_export",
    ),
    (
        "CI: cache pip in CI. The deploy token is ghp_abcdefghijklmnopqrstuvwxyz0123456789.",
        "Added actions/cache keyed on requirements.txt; CI went from 6 to 2 minutes.",
        "Set up pip caching in CI (actions/cache keyed on requirements.txt): 6 -> 2 minutes.",
        "ci_pip_cache",
    ),
]
THREE_SUMMARY = """v1
## User Profile
- Maintains a Python project with a parser, a report tool and GitHub Actions CI.
## User preferences
- Keep commits small.
- Prefer the standard library (csv) over pandas for small jobs.
## General Tips
- Parser tests: `pytest -q tests/parser`; a shared cache must be reset between tests.
- CI caches pip with actions/cache keyed on requirements.txt.
## What's in Memory
- rollout_summaries/*fix_flaky_parser_tests.md: the flaky parser tests.
- rollout_summaries/*report_csv_export.md: CSV export.
- rollout_summaries/*ci_pip_cache.md: CI caching.
"""


def test_three_sessions_become_one_memory_folder(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server, "max_rollouts_per_startup = 3\n")
    for user, assistant, summary, slug in THREE_SESSIONS:
        write_session(home, user=user, assistant=assistant, cwd="/home/ada/tracker")
        marker = user.split(":")[0] + ":"
        fake_server.expect_sse(
            "/v1/responses", stage_one_reply(summary, slug), when=user_says(marker)
        )
    steps = [
        exec_call("cat phase2_workspace_diff.md", "r1"),
        exec_call("ls rollout_summaries", "r2"),
        patch_call(add_file_patch("memory_summary.md", THREE_SUMMARY), "r3"),
        exec_call("head -1 memory_summary.md && wc -c memory_summary.md", "r4"),
        sse.assistant_reply("Wrote memory_summary.md from three session summaries."),
    ]
    for step in steps:
        fake_server.expect_sse("/v1/responses", step, when=AGENT)

    result = update(home, work)

    assert result.returncode == 0, result.stdout + result.stderr
    root = home / "memories_v2"
    tree = sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".git" not in p.parts)
    names = sorted(p.name for p in (root / "rollout_summaries").iterdir())
    assert sorted(name.rsplit("-", 1)[-1] for name in names) == sorted(
        f"{slug}.md" for *_, slug in THREE_SESSIONS
    )
    assert tree == sorted(
        [
            "extensions",
            "extensions/ad_hoc",
            "extensions/ad_hoc/instructions.md",
            "extensions/ad_hoc/notes",
            "memory_summary.md",
            "rollout_summaries",
            *(f"rollout_summaries/{name}" for name in names),
        ]
    )
    assert (root / "memory_summary.md").read_text() == THREE_SUMMARY
    everything = "".join(p.read_text() for p in (root / "rollout_summaries").iterdir())
    assert "ghp_" not in everything
    agent = [r for r in fake_server.requests if is_agent(r)]
    assert "v1\n" in tool_output(agent[4], "r4")
