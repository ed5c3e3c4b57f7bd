"""The `_meta` of an MCP `tools/call` made by a sub-agent: the child's thread and turn, the
root's session (`pycodex exec` with the probe server over stdio and the scripted fake model).
The root thread's own call is checked in `test_mcp_exec.py`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support import sse_builders as sse
from support.cli import run_cli, write_config
from support.fake_server import FakeModelServer, RecordedRequest, user_message_contains
from support.mcp_servers import logged_calls, probe_table

BASE = ["exec", "--skip-git-repo-check"]
RESPONSES = "/v1/responses"
MARKER = "CHILD-MCP-5d1e"


def call(namespace: str, name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {
        **sse.function_call(name, json.dumps(arguments), call_id=call_id),
        "namespace": namespace,
    }


def spawned_child(request: RecordedRequest) -> str:
    for item in request.json()["input"]:
        if item.get("type") == "function_call_output" and item["call_id"] == "c_spawn":
            return str(json.loads(item["output"])["agent_id"])
    raise AssertionError("the spawn output is not in the request")


def test_a_sub_agents_call_names_its_own_thread_and_the_root_session(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    log = tmp_path / "calls.jsonl"
    write_config(home, fake_server, probe_table(env={"PROBE_LOG": str(log)}))
    child_turn = user_message_contains(MARKER)
    echo = call("mcp__probe", "echo", {"text": "from-child"}, "k_echo")
    fake_server.expect_sse(RESPONSES, sse.tool_calls(echo), when=child_turn)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("CHILD-DONE"), when=child_turn)
    spawn = call("multi_agent_v1", "spawn_agent", {"message": f"{MARKER}: echo"}, "c_spawn")
    fake_server.expect_sse(RESPONSES, sse.tool_calls(spawn))

    def wait_for_child(request: RecordedRequest) -> list[dict[str, Any]]:
        targets = {"targets": [spawned_child(request)]}
        return sse.tool_calls(call("multi_agent_v1", "wait_agent", targets, "c_wait"))

    fake_server.expect_sse_from(RESPONSES, wait_for_child)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-DONE"))

    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    root = result.events()[0]["thread_id"]
    child_requests = [r for r in fake_server.requests if child_turn(r)]
    assert len(child_requests) == 2
    headers = child_requests[1].headers  # the child's request that carried the call's output
    child = headers["thread-id"]
    assert child != root and headers["session-id"] == root

    [logged] = logged_calls(log)
    turn_metadata = json.loads(headers["x-codex-turn-metadata"])
    assert logged["meta"] == {
        "callId": "k_echo",
        "x-codex-turn-metadata": turn_metadata,
        "threadId": child,
        "sessionId": root,
        "windowId": headers["x-codex-window-id"],
    }
    assert turn_metadata["thread_id"] == child and turn_metadata["session_id"] == root
    assert turn_metadata["parent_thread_id"] == root and turn_metadata["turn_id"]
