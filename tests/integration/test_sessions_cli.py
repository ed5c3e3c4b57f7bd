"""Session files end to end: record, resume (--last and by id), fork, list, and survive SIGKILL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support import sse_builders as sse
from support.cli import cli_env, run_cli, write_config
from support.fake_server import FakeModelServer

BASE = ["exec", "--skip-git-repo-check", "--json"]


def rollouts(home: Path) -> list[Path]:
    return sorted((home / "sessions").rglob("rollout-*.jsonl"))


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def input_prefix(raw: bytes) -> str:
    """The request body up to the end of its `input` list: model, instructions, input items."""
    text = raw.decode()
    return text[: text.index('], "tools"')]


def echo_call(call_id: str, text: str) -> dict[str, Any]:
    args = json.dumps({"cmd": f"echo {text}", "login": False})
    return sse.function_call("exec_command", args, call_id=call_id, id=f"fc_{call_id}")


def test_record_then_resume_last_and_by_id(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.tool_calls(echo_call("c1", "one")))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("first done"))
    first = run_cli([*BASE, "first task"], codex_home=home, cwd=work)
    assert first.returncode == 0, first.stderr
    thread_id = first.events()[0]["thread_id"]
    (path,) = rollouts(home)
    assert path.name.endswith(f"-{thread_id}.jsonl")
    kinds = [r["type"] for r in records(path)]
    assert kinds[0] == "session_meta" and "turn_context" in kinds and "response_item" in kinds
    meta = records(path)[0]["payload"]
    assert meta["id"] == thread_id and meta["cwd"] == str(work) and meta["source"] == "exec"

    fake_server.expect_sse("/v1/responses", sse.assistant_reply("second done"))
    second = run_cli([*BASE, "resume", "--last", "second task"], codex_home=home, cwd=work)
    assert second.returncode == 0, second.stderr
    assert second.events()[0] == {"type": "thread.started", "thread_id": thread_id}
    original, resumed = fake_server.requests[1], fake_server.requests[2]
    assert input_prefix(resumed.body_bytes).startswith(input_prefix(original.body_bytes))
    resumed_body = resumed.json()
    assert resumed_body["prompt_cache_key"] == thread_id
    assert resumed_body["tools"] == original.json()["tools"]
    # nothing injected again: only the new user message follows the old history
    new_items = resumed_body["input"][len(original.json()["input"]) :]
    assert [i.get("role") for i in new_items] == ["assistant", "user"]
    assert new_items[-1]["content"][-1]["text"] == "second task"
    assert resumed.headers["thread-id"] == thread_id

    fake_server.expect_sse("/v1/responses", sse.assistant_reply("third done"))
    third = run_cli([*BASE, "resume", thread_id[:13], "third task"], codex_home=home, cwd=work)
    assert third.returncode == 0, third.stderr
    assert rollouts(home) == [path]  # all three runs appended to the one file
    assert input_prefix(fake_server.requests[3].body_bytes).startswith(
        input_prefix(fake_server.requests[2].body_bytes)
    )


def test_resumed_thread_reports_the_threads_cumulative_usage(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    """Upstream's scenario: 100 in / 10 out per request; the resumed run reports 200/20."""
    for _ in range(2):
        reply = sse.assistant_reply("done")
        reply[-1] = sse.completed(input_tokens=100, cached_tokens=40, output_tokens=10,
                                  reasoning_tokens=3)  # fmt: skip
        fake_server.expect_sse("/v1/responses", reply)
    first = run_cli([*BASE, "first task"], codex_home=home, cwd=work)
    second = run_cli([*BASE, "resume", "--last", "second task"], codex_home=home, cwd=work)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    usage = {"input_tokens": 100, "cached_input_tokens": 40, "cache_write_input_tokens": 0,
             "output_tokens": 10, "reasoning_output_tokens": 3}  # fmt: skip
    assert first.events()[-1] == {"type": "turn.completed", "usage": usage}
    doubled = {key: value * 2 for key, value in usage.items()}
    assert second.events()[-1] == {"type": "turn.completed", "usage": doubled}


def test_ephemeral_writes_nothing(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    result = run_cli([*BASE, "--ephemeral", "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert rollouts(home) == []


def test_unknown_session_is_one_line_exit_2(home: Path, work: Path) -> None:
    result = run_cli([*BASE, "resume", "0000dead", "hi"], codex_home=home, cwd=work)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: no recorded session matches '0000dead'"
    )
    no_last = run_cli([*BASE, "resume", "--last", "hi"], codex_home=home, cwd=work)
    assert no_last.returncode == 2 and "no recorded session for" in no_last.stderr


def test_sessions_listing_and_fork(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    first = run_cli([*BASE, "list me please"], codex_home=home, cwd=work)
    thread_id = first.events()[0]["thread_id"]
    listing = run_cli(["sessions"], codex_home=home, cwd=work)
    assert listing.returncode == 0
    (line,) = listing.stdout.splitlines()
    assert line.startswith(thread_id) and line.endswith("list me please")
    other = run_cli(["sessions"], codex_home=home, cwd=home)
    assert other.stdout.startswith("no recorded sessions for")

    fork = run_cli(["fork", thread_id], codex_home=home, cwd=work)
    assert fork.returncode == 0, fork.stderr
    fork_id = fork.stdout.strip()
    assert fork_id != thread_id
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("forked ok"))
    resumed = run_cli([*BASE, "resume", fork_id, "continue"], codex_home=home, cwd=work)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.events()[0]["thread_id"] == fork_id
    original, forked = fake_server.requests[0].json(), fake_server.requests[1].json()
    assert forked["input"][: len(original["input"])] == original["input"]
    assert forked["prompt_cache_key"] == fork_id
    assert len(rollouts(home)) == 2


def _wait_for_text(path_glob: Path, text: str, timeout_s: float = 30) -> None:
    """Poll the session files until `text` is on disk (the engine flushes item by item)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(text in p.read_text() for p in path_glob.rglob("rollout-*.jsonl")):
            return
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never reached a session file")


# What the stalled k-th response streams before the kill, and what resume must then hold.
KILL_POINTS = {
    1: ([], None),  # killed while waiting for the first response
    2: ([sse.reasoning("partial thought", id="rs_kill")], "rs_kill"),  # a finished item
    3: ([echo_call("c3", "three")], "fc_c3"),  # a tool call whose output never came
}


@pytest.mark.parametrize("kill_at", sorted(KILL_POINTS))
def test_sigkill_mid_turn_leaves_a_resumable_file(
    fake_server: FakeModelServer, home: Path, work: Path, kill_at: int
) -> None:
    """Kill a real exec mid-stream; resume sees every item completed before the kill."""
    for index in range(1, kill_at):
        fake_server.expect_sse("/v1/responses", sse.tool_calls(echo_call(f"c{index}", "x")))
    items, marker = KILL_POINTS[kill_at]
    events = [sse.response_created(), *(sse.output_item_done(i) for i in items), sse.completed()]
    fake_server.expect_sse("/v1/responses", events, stall_after=len(events) - 1)
    process = subprocess.Popen(
        [sys.executable, "-m", "pycodex", *BASE, "multi step"],
        cwd=work, env=cli_env(home), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        thread_id = json.loads(process.stdout.readline())["thread_id"]
        fake_server.wait_for_requests(kill_at, timeout_s=30)
        if marker is not None:
            _wait_for_text(home / "sessions", marker)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        process.stdout.close()
    killed_request = fake_server.requests[kill_at - 1].json()
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("resumed"))
    result = run_cli([*BASE, "resume", thread_id, "go on"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    resumed = fake_server.requests[-1].json()["input"]
    assert resumed[: len(killed_request["input"])] == killed_request["input"]
    tail = resumed[len(killed_request["input"]) :]
    if kill_at == 2:
        assert tail[0]["id"] == "rs_kill"  # completed before the kill: kept
    if kill_at == 3:
        assert all(item.get("call_id") != "c3" for item in tail)  # dangling call dropped
        assert "c3" in result.stderr  # and the user is told
    assert tail[-1]["content"][-1]["text"] == "go on"


def test_resumes_a_session_written_in_the_upstream_format(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    """A hand-made rollout following the documented upstream format (tests/unit/sessions)."""
    fixture = next((Path(__file__).parents[1] / "unit/sessions/fixtures").glob("rollout-*.jsonl"))
    target = home / "sessions/2025/05/31" / fixture.name
    target.parent.mkdir(parents=True)
    target.write_bytes(fixture.read_bytes())
    thread_id = records(target)[0]["payload"]["id"]
    recorded_items = [r["payload"] for r in records(target) if r["type"] == "response_item"]
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("continued"))
    result = run_cli([*BASE, "resume", thread_id, "and now?"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    body = fake_server.requests[0].json()
    assert body["instructions"] == "You are a coding agent. Be precise, safe and helpful."
    assert body["prompt_cache_key"] == thread_id
    assert body["input"][: len(recorded_items)] == recorded_items
    appended = records(target)[len(fixture.read_text().splitlines()) :]
    assert appended and all(r["type"] != "session_meta" for r in appended)


def test_resume_after_compaction_starts_from_the_compacted_history(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "compact-home"
    write_config(home, fake_server)
    call_turn = sse.tool_calls(echo_call("c1", "x" * 3000))
    call_turn[-1] = sse.completed(input_tokens=150, output_tokens=10)
    fake_server.expect_sse("/v1/responses", call_turn)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("SUMMARY OF WORK"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("done"))
    limit = ["-c", "model_auto_compact_token_limit=100"]
    first = run_cli([*BASE, *limit, "long task"], codex_home=home, cwd=work)
    assert first.returncode == 0, first.stderr
    compaction = [
        e["item"] for e in first.events() if e.get("item", {}).get("type") == "context_compaction"
    ]
    assert len(compaction) == 1 and compaction[0]["phase"] == "mid_turn"
    (path,) = rollouts(home)
    assert any(r["type"] == "compacted" for r in records(path))
    thread_id = first.events()[0]["thread_id"]
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("resumed"))
    resumed = run_cli([*BASE, "resume", thread_id, "next"], codex_home=home, cwd=work)
    assert resumed.returncode == 0, resumed.stderr
    body = fake_server.requests[-1].json()
    after_compaction = fake_server.requests[2].json()["input"]
    assert body["input"][: len(after_compaction)] == after_compaction
    assert all(item.get("call_id") != "c1" for item in body["input"])
    assert any("SUMMARY OF WORK" in json.dumps(item) for item in body["input"])
