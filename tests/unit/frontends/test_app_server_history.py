"""Turns rebuilt from a rollout file written by a real `pycodex exec` run."""

from __future__ import annotations

import json
from pathlib import Path

from pycodex.cli.main import _leading_config
from pycodex.frontends.app_server.history import read_recorded
from pycodex.sessions import list_sessions
from support import sse_builders as sse
from support.cli import run_cli
from support.fake_server import FakeModelServer


def test_an_exec_session_reads_back_as_turns_and_items(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    from support.cli import write_config

    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    write_config(home, fake_server)
    call = sse.function_call("exec_command", json.dumps({"cmd": "echo hi", "login": False}))
    fake_server.expect_sse("/v1/responses", sse.tool_calls(sse.reasoning("thinking"), call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("all done", "r2"))
    result = run_cli(
        ["exec", "--skip-git-repo-check", "--yolo", "run it"], codex_home=home, cwd=work
    )
    assert result.returncode == 0, result.stderr
    path = list_sessions(home)[0].path
    view = read_recorded(path, "a name")
    assert view.meta.preview == "run it" and view.meta.name == "a name"
    assert view.meta.source == "exec" and view.meta.cwd == str(work)
    (turn,) = view.turns
    assert turn.status == "completed"
    kinds = [(item["type"], item["id"]) for item in turn.items]
    assert kinds == [
        ("userMessage", f"{turn.id}-user-0"),
        ("reasoning", "rs_1"),
        ("commandExecution", "call_1"),
        ("agentMessage", "msg_1"),
    ]
    command = turn.items[2]
    assert command["command"] == "/bin/bash -c 'echo hi'"
    assert (command["exitCode"], command["aggregatedOutput"]) == (0, "hi\n")


def test_a_turn_cut_short_reads_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "rollout-2026-01-01T00-00-00-01a00000-0000-7000-8000-000000000000.jsonl"
    records = [
        {"type": "session_meta", "payload": {"id": "t1", "cwd": "/w", "source": "cli"}},
        {"type": "event_msg", "payload": {"type": "task_started", "turn_id": "turn-a"}},
        {"type": "event_msg", "payload": {"type": "user_message", "message": "hello"}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"type": "resp')
    view = read_recorded(path)
    assert [(t.id, t.status) for t in view.turns] == [("turn-a", "interrupted")]


def test_config_pairs_before_the_command_are_split_off() -> None:
    args = ["-c", "a=1", "--config", "b=2", "--config=c=3", "app-server", "-c", "d=4"]
    assert _leading_config(args) == (["a=1", "b=2", "c=3"], ["app-server", "-c", "d=4"])
