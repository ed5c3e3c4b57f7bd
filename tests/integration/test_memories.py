"""Memories end to end: `pycodex memories update`, the consolidation agent in its sandbox, the
summary given to the next session, and the switches that turn it all off (docs/memories.md).

Past sessions are real rollout files, backdated; the model is the content-routing fake server:
stage one is told apart by its JSON schema, the consolidation agent by its prompt.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pycodex.execution.sandbox import sandbox_status
from support import sse_builders as sse
from support.cli import CliResult, run_cli, write_config
from support.fake_server import FakeModelServer, RecordedRequest, body_contains
from support.fake_server import user_message_contains as user_says
from support.memories import MEMORY_CONFIG, write_session

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
    ids = {(r.headers["session-id"], r.headers["thread-id"], r.json()["prompt_cache_key"]) for r in agent}
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
