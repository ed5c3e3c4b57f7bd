"""Sub-agents end to end: `pycodex exec` as a subprocess against the fake model server, with
replies routed by request content (parent and child requests interleave)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support import sse_builders as sse
from support.cli import run_cli
from support.fake_server import FakeModelServer, RecordedRequest, user_message_contains

BASE = ["exec", "--skip-git-repo-check"]
RESPONSES = "/v1/responses"
CONTRACT = Path("/work/shared/contracts/exec_json_spawn_wait_send_close.jsonl")
NS = "multi_agent_v1"
CHILD_TASK = "CHILD-TASK-7f3a: report"


def ns_call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    item = sse.function_call(name, json.dumps(arguments), call_id=call_id)
    return {**item, "namespace": NS}


def outputs(request: RecordedRequest) -> dict[str, str]:
    return {
        item["call_id"]: item["output"]
        for item in request.json()["input"]
        if item.get("type") == "function_call_output"
    }


def spawned_id(request: RecordedRequest, call_id: str = "c_spawn") -> str:
    return str(json.loads(outputs(request)[call_id])["agent_id"])


def reply_with(
    make: Any, *, call_id: str, name: str, args: Any = None
) -> Any:  # a computed namespaced call whose arguments name the child
    def events(request: RecordedRequest) -> list[dict[str, Any]]:
        child = spawned_id(request)
        return sse.tool_calls(ns_call(name, make(child) if args is None else args, call_id))

    return events


def script_child(server: FakeModelServer, marker: str = "CHILD-TASK-7f3a") -> None:
    """The child runs one command, then reports; a follow-up gets its own answer."""
    when = user_message_contains(marker)
    command = sse.function_call("exec_command", '{"cmd": "echo child-ran"}', call_id="k1")
    server.expect_sse(RESPONSES, sse.tool_calls(command), when=when)
    server.expect_sse(RESPONSES, sse.assistant_reply("CHILD-RESULT-42"), when=when)


def test_spawn_wait_send_close_resume_matches_the_upstream_transcript(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    server = fake_server
    script_child(server)
    server.expect_sse(
        RESPONSES,
        sse.assistant_reply("CHILD-FOLLOWUP-DONE"),
        when=user_message_contains("FOLLOWUP please"),
    )
    parent = [
        lambda child: ("wait_agent", {"targets": [child]}, "c_wait"),
        lambda child: ("send_input", {"target": child, "message": "FOLLOWUP please"}, "c_send"),
        lambda child: ("wait_agent", {"targets": [child]}, "c_wait2"),
        lambda child: ("close_agent", {"target": child}, "c_close"),
        lambda child: ("wait_agent", {"targets": [child]}, "c_wait3"),
        lambda child: ("resume_agent", {"id": child}, "c_resume"),
        lambda child: ("close_agent", {"target": child}, "c_close2"),
        lambda child: (
            "wait_agent",
            {"targets": ["00000000-0000-0000-0000-000000000000"]},
            "c_wait4",
        ),
    ]
    server.expect_sse(
        RESPONSES, sse.tool_calls(ns_call("spawn_agent", {"message": CHILD_TASK}, "c_spawn"))
    )
    for step in parent:

        def events(request: RecordedRequest, step: Any = step) -> list[dict[str, Any]]:
            name, arguments, call_id = step(spawned_id(request))
            return sse.tool_calls(ns_call(name, arguments, call_id))

        server.expect_sse_from(RESPONSES, events)
    server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-FINAL"))

    result = run_cli([*BASE, "--json", "--yolo", "PARENT-TASK go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    events = result.events()
    root = events[0]["thread_id"]
    child = spawned_id(server.requests[-1])

    expected = _contract_with_ids(root, child)
    # Usage numbers come from the scripts; everything else is upstream's stream, line by line.
    assert [e for e in events if e["type"] != "turn.completed"] == [
        e for e in expected if e["type"] != "turn.completed"
    ]
    assert events[-1]["type"] == "turn.completed"

    # The parent heard the outputs in upstream's shapes.
    final = outputs(server.requests[-1])
    assert json.loads(final["c_spawn"]) == {"agent_id": child, "nickname": _nickname(final)}
    assert json.loads(final["c_wait"]) == {
        "status": {child: {"completed": "CHILD-RESULT-42"}},
        "timed_out": False,
    }
    assert json.loads(final["c_close"]) == {"previous_status": {"completed": "CHILD-FOLLOWUP-DONE"}}
    assert json.loads(final["c_wait3"]) == {"status": {child: "not_found"}, "timed_out": False}
    assert json.loads(final["c_resume"]) == {"status": "pending_init"}
    assert json.loads(final["c_close2"]) == {"previous_status": "pending_init"}
    assert set(json.loads(final["c_send"])) == {"submission_id"}
    notices = [
        text for text in _user_texts(server.requests[-1]) if "<subagent_notification>" in text
    ]
    assert notices[0] == (
        "<subagent_notification>\n"
        + json.dumps({"agent_path": child, "status": {"completed": "CHILD-RESULT-42"}})
        .replace(", ", ",")
        .replace(": ", ":")
        + "\n</subagent_notification>"
    )
    assert any('"status":"shutdown"' in text for text in notices)
    _check_ids(server.requests, root, child)
    _check_rollouts(home, root, child)


def _contract_with_ids(root: str, child: str) -> list[dict[str, Any]]:
    text = CONTRACT.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    contract_root = lines[0]["thread_id"]
    contract_child = lines[3]["item"]["receiver_thread_ids"][0]
    text = text.replace(contract_root, root).replace(contract_child, child)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _nickname(final: dict[str, str]) -> str:
    nickname = json.loads(final["c_spawn"])["nickname"]
    assert isinstance(nickname, str) and nickname
    return nickname


def _user_texts(request: RecordedRequest) -> list[str]:
    texts = []
    for item in request.json()["input"]:
        if item.get("role") == "user":
            texts += [part.get("text", "") for part in item["content"]]
    return texts


def _check_ids(requests: list[RecordedRequest], root: str, child: str) -> None:
    for request in requests:
        body, headers = request.json(), request.headers
        metadata = body["client_metadata"]
        turn = json.loads(metadata["x-codex-turn-metadata"])
        assert headers["session-id"] == body["prompt_cache_key"] == root
        assert metadata["session_id"] == turn["session_id"] == root
        is_child = headers["thread-id"] == child
        assert headers["thread-id"] in (root, child)
        assert metadata["thread_id"] == turn["thread_id"] == headers["thread-id"]
        assert headers["x-codex-window-id"] == f"{headers['thread-id']}:0"
        if is_child:
            assert headers["x-codex-parent-thread-id"] == root
            assert headers["x-openai-subagent"] == "collab_spawn"
            assert metadata["x-codex-parent-thread-id"] == root
            assert metadata["x-openai-subagent"] == "collab_spawn"
            assert turn["parent_thread_id"] == root and turn["subagent_kind"] == "thread_spawn"
            assert turn["thread_source"] == "subagent"
            assert turn["parent_turn_id"] == turn["root_turn_id"] == metadata["parent_turn_id"]
        else:
            assert "x-codex-parent-thread-id" not in headers
            assert "x-openai-subagent" not in headers
            assert turn["thread_source"] == "user" and "parent_thread_id" not in turn
            assert turn["root_turn_id"] == turn["turn_id"]
    assert {r.headers["thread-id"] for r in requests} == {root, child}


def _rollout(home: Path, thread_id: str) -> list[dict[str, Any]]:
    (path,) = list((home / "sessions").rglob(f"rollout-*-{thread_id}.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_rollouts(home: Path, root: str, child: str) -> None:
    root_meta = _rollout(home, root)[0]["payload"]
    assert (root_meta["session_id"], root_meta["id"]) == (root, root)
    assert root_meta["source"] == "exec" and root_meta["thread_source"] == "user"
    child_lines = _rollout(home, child)
    meta = child_lines[0]["payload"]
    assert (meta["session_id"], meta["id"], meta["parent_thread_id"]) == (root, child, root)
    spawn = meta["source"]["subagent"]["thread_spawn"]
    assert spawn["parent_thread_id"] == root and spawn["depth"] == 1
    assert spawn["agent_nickname"] == meta["agent_nickname"]
    assert meta["thread_source"] == "subagent"
    started = [
        line["payload"]
        for line in child_lines
        if line["type"] == "event_msg" and line["payload"]["type"] == "task_started"
    ]
    assert started and started[0]["turn_attribution"]["parent_turn_id"]
    collab = [
        line["payload"]["item"]
        for line in _rollout(home, root)
        if line["type"] == "event_msg" and line["payload"]["type"] == "item_completed"
    ]
    assert collab[0]["type"] == "CollabAgentToolCall" and collab[0]["id"] == "c_spawn"
    assert collab[0]["agents_states"] == {child: "pending_init"}
    assert collab[0]["receiver_agents"] == [
        {"thread_id": child, "agent_nickname": meta["agent_nickname"]}
    ]
