"""Memories end to end: `pycodex memories update` mines past sessions, the consolidation agent
writes the summary in its sandbox (and cannot write outside it), bad summaries are rejected, the
next session is given the summary (docs/memories.md).

Past sessions are real rollout files, backdated; the model is the content-routing fake server:
stage one is told apart by its JSON schema, the consolidation agent by its prompt.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from pycodex.execution.sandbox import sandbox_status
from support import sse_builders as sse
from support.cli import run_cli
from support.fake_server import FakeModelServer
from support.fake_server import user_message_contains as user_says
from support.memories import (
    AGENT,
    SUMMARY,
    add_file_patch,
    consolidation_job,
    exec_call,
    git_out,
    is_agent,
    is_stage_one,
    memories_home,
    patch_call,
    short_agent,
    stage_one_reply,
    tool_output,
    update,
    write_session,
)

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason="no sandbox mechanism on this machine"
)


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
    log = git_out(root, "log", "--format=%an <%ae> %s")
    assert log.splitlines() == ["pycodex <pycodex@localhost> pycodex memory baseline"] * 2
    assert git_out(root, "status", "--porcelain") == ""
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


def test_an_invalid_summary_is_rejected_and_the_next_update_retries(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server, 'consolidation_model = "big-consolidator"\n')
    write_session(home, user="ELIGIBLE-TASK", assistant="done")
    fake_server.expect_sse(
        "/v1/responses", stage_one_reply("notes", "task"), when=user_says("ELIGIBLE-TASK")
    )
    short_agent(fake_server, SUMMARY.replace("v1\n", "").replace("## General Tips", "## Tips"))

    first = update(home, work)

    assert first.returncode == 1
    agent_models = {r.json()["model"] for r in fake_server.requests if is_agent(r)}
    assert agent_models == {"big-consolidator"}
    assert "failed_invalid_artifacts: memory_summary.md must start with the line 'v1'" in (
        first.stdout
    )
    root = home / "memories_v2"
    assert not (root / "memory_summary.md").exists()  # never accepted, never injected
    assert not (root / "phase2_workspace_diff.md").exists()
    status, retry_at, error = consolidation_job(home)
    assert status == "error" and retry_at is not None and "v1" in (error or "")
    assert git_out(root, "status", "--porcelain").startswith("A  rollout_summaries/")

    # `memories update` on demand retries at once; this time the summary passes.
    short_agent(fake_server)
    second = update(home, work)
    assert second.returncode == 0, second.stdout
    assert "no session to mine" in second.stdout
    assert (root / "memory_summary.md").read_text() == SUMMARY
    assert consolidation_job(home)[0] == "done"


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
        # This agent writes through the shell (the other tests' through apply_patch).
        exec_call(f"cat > memory_summary.md <<'END'\n{THREE_SUMMARY}END", "r3"),
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
    assert "Process exited with code 0" in tool_output(agent[3], "r3")
    assert "v1\n" in tool_output(agent[4], "r4")


def test_a_stage_one_answer_with_an_extra_field_fails_the_job(
    tmp_path: Path, fake_server: FakeModelServer, work: Path
) -> None:
    home = memories_home(tmp_path, fake_server, 'extract_model = "tiny-extractor"\n')
    thread_id, _ = write_session(home, user="ELIGIBLE-TASK", assistant="done")
    answer = {"rollout_summary": "s", "rollout_slug": "x", "raw_memory": "old v1 field"}
    fake_server.expect_sse(
        "/v1/responses", sse.assistant_reply(json.dumps(answer)), when=user_says("ELIGIBLE-TASK")
    )
    result = update(home, work)
    assert result.returncode == 1
    assert f"failed {thread_id}: unknown field 'raw_memory' in the answer" in result.stdout
    assert [r.json()["model"] for r in fake_server.requests] == ["tiny-extractor"]
    assert list((home / "memories_v2").rglob("rollout_summaries/*.md")) == []
    with sqlite3.connect(home / "memories_v2.sqlite") as db:
        row = db.execute("SELECT status, attempts FROM jobs WHERE job_key = ?", (thread_id,))
        assert row.fetchone() == ("error", 1)
