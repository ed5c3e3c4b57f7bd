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


def _config(home: Path, server: FakeModelServer, extra: str, model: str = "test-model") -> None:
    from support.cli import write_config

    write_config(home, server, extra=extra)
    text = (home / "config.toml").read_text().replace('model = "test-model"', f'model = "{model}"')
    (home / "config.toml").write_text(text)


def test_thread_limit_and_depth_limit(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    """max_threads = 1: a second spawn fails with upstream's text; a child at max_depth has no
    multi-agent tools, so its namespaced spawn is an unsupported call."""
    _config(home, fake_server, "[agents]\nmax_threads = 1\n")
    server = fake_server
    when = user_message_contains("CHILD-TASK-7f3a")
    nested = ns_call("spawn_agent", {"message": "GRANDCHILD"}, "g1")
    server.expect_sse(RESPONSES, sse.tool_calls(nested), when=when)
    server.expect_sse(RESPONSES, sse.assistant_reply("CHILD-DONE"), when=when)
    server.expect_sse(
        RESPONSES,
        sse.tool_calls(
            ns_call("spawn_agent", {"message": CHILD_TASK}, "c_spawn"),
            ns_call("spawn_agent", {"message": "SECOND"}, "c_second"),
        ),
    )
    server.expect_sse_from(
        RESPONSES,
        lambda request: sse.tool_calls(
            ns_call("wait_agent", {"targets": [spawned_id(request)]}, "c_wait")
        ),
    )
    server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-FINAL"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    final = outputs(server.requests[-1])
    assert final["c_second"] == "collab spawn failed: agent thread limit reached"
    child_second = next(r for r in server.requests if "g1" in outputs(r))
    assert outputs(child_second)["g1"] == "unsupported call: multi_agent_v1spawn_agent"
    child_first = next(
        r
        for r in server.requests
        if r.headers["thread-id"] != server.requests[0].headers["thread-id"]
    )
    tools = child_first.json()["tools"]
    assert all(tool.get("type") != "namespace" for tool in tools)
    failed = [
        e["item"]
        for e in result.events()
        if e["type"] == "item.completed" and e["item"]["type"] == "collab_tool_call"
    ]
    assert failed[1] == {
        **failed[1],
        "tool": "spawn_agent",
        "receiver_thread_ids": [],
        "agents_states": {},
        "status": "failed",
    }


def test_grandchild_shares_the_session_id(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    _config(home, fake_server, "[agents]\nmax_depth = 2\n")
    server = fake_server
    child_when = user_message_contains("CHILD-TASK-7f3a")
    grandchild_when = user_message_contains("GRANDCHILD-TASK")
    server.expect_sse(RESPONSES, sse.assistant_reply("GC-DONE"), when=grandchild_when)
    server.expect_sse(
        RESPONSES,
        sse.tool_calls(ns_call("spawn_agent", {"message": "GRANDCHILD-TASK"}, "c_spawn")),
        when=child_when,
    )
    server.expect_sse_from(
        RESPONSES,
        lambda request: sse.tool_calls(
            ns_call("wait_agent", {"targets": [spawned_id(request)]}, "c_wait")
        ),
        when=child_when,
    )
    server.expect_sse(RESPONSES, sse.assistant_reply("CHILD-DONE"), when=child_when)
    server.expect_sse(
        RESPONSES, sse.tool_calls(ns_call("spawn_agent", {"message": CHILD_TASK}, "c_spawn"))
    )
    server.expect_sse_from(
        RESPONSES,
        lambda request: sse.tool_calls(
            ns_call("wait_agent", {"targets": [spawned_id(request)]}, "c_wait")
        ),
    )
    server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-FINAL"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    root = result.events()[0]["thread_id"]
    threads = {r.headers["thread-id"] for r in server.requests}
    assert len(threads) == 3
    assert {r.headers["session-id"] for r in server.requests} == {root}
    grandchild = next(r for r in server.requests if grandchild_when(r) and not child_when(r))
    child = grandchild.headers["x-codex-parent-thread-id"]
    assert child not in (root, grandchild.headers["thread-id"])
    meta = _rollout(home, grandchild.headers["thread-id"])[0]["payload"]
    assert meta["session_id"] == root and meta["parent_thread_id"] == child
    assert meta["source"]["subagent"]["thread_spawn"]["depth"] == 2


def test_failing_child_reports_errored_and_the_parent_goes_on(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    server = fake_server
    busy = {"error": {"message": "The model is overloaded right now.", "type": "invalid_request"}}
    server.expect_error(RESPONSES, 400, busy, when=user_message_contains("CHILD-TASK-7f3a"))
    server.expect_sse(
        RESPONSES, sse.tool_calls(ns_call("spawn_agent", {"message": CHILD_TASK}, "c_spawn"))
    )
    server.expect_sse_from(
        RESPONSES,
        lambda request: sse.tool_calls(
            ns_call("wait_agent", {"targets": [spawned_id(request)]}, "c_wait")
        ),
    )
    server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-FINAL"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    final = outputs(server.requests[-1])
    child = spawned_id(server.requests[-1])
    (state,) = json.loads(final["c_wait"])["status"].values()
    assert "overloaded" in state["errored"]
    wait = next(
        e["item"]
        for e in result.events()
        if e["type"] == "item.completed" and e["item"].get("tool") == "wait"
    )
    assert wait["status"] == "failed"
    assert wait["agents_states"][child]["status"] == "errored"
    assert result.events()[-1]["type"] == "turn.completed"


def _spawn_then_wait(server: FakeModelServer) -> None:
    server.expect_sse(
        RESPONSES, sse.tool_calls(ns_call("spawn_agent", {"message": CHILD_TASK}, "c_spawn"))
    )
    server.expect_sse_from(
        RESPONSES,
        lambda request: sse.tool_calls(
            ns_call("wait_agent", {"targets": [spawned_id(request)]}, "c_wait")
        ),
    )


def test_interrupt_during_wait_aborts_parent_and_child(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    import signal
    import subprocess
    import sys

    from support.cli import cli_env

    server = fake_server
    # The child's answer never comes: the parent sits in wait_agent until Ctrl-C.
    server.expect_sse(
        RESPONSES,
        [sse.response_created()],
        stall_after=1,
        when=user_message_contains("CHILD-TASK-7f3a"),
    )
    _spawn_then_wait(server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pycodex", *BASE, "--json", "go"],
        cwd=work,
        env=cli_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if lines[-1]["type"] == "item.started" and lines[-1]["item"]["tool"] == "wait":
            break
    server.wait_for_requests(3)  # the child's request is open too
    proc.send_signal(signal.SIGINT)
    rest, _err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    root = lines[0]["thread_id"]
    child = lines[-1]["item"]["receiver_thread_ids"][0]
    for thread_id in (root, child):
        aborted = [
            line["payload"]
            for line in _rollout(home, thread_id)
            if line["type"] == "event_msg" and line["payload"]["type"] == "turn_aborted"
        ]
        assert aborted and aborted[0]["reason"] == "interrupted", thread_id
    assert '"turn.completed"' not in rest
    assert len(server.requests) == 3  # nothing was sent after the interrupt


def test_resume_parent_and_child_keep_the_tree_session_id(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    server = fake_server
    script_child(server)
    _spawn_then_wait(server)
    server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-FINAL"))
    first = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert first.returncode == 0, first.stdout + first.stderr
    root = first.events()[0]["thread_id"]
    child = spawned_id(server.requests[-1])
    count = len(server.requests)

    server.expect_sse(RESPONSES, sse.assistant_reply("AGAIN"))
    again = run_cli([*BASE, "--json", "resume", root, "again"], codex_home=home, cwd=work)
    assert again.returncode == 0, again.stdout + again.stderr
    request = server.requests[count]
    assert request.headers["session-id"] == request.headers["thread-id"] == root
    items = request.json()["input"]
    calls = {i["call_id"] for i in items if i.get("type") == "function_call"}
    answered = {i["call_id"] for i in items if i.get("type") == "function_call_output"}
    assert calls == answered == {"c_spawn", "c_wait"}
    assert any(i.get("namespace") == NS for i in items if i.get("type") == "function_call")
    assert any("<subagent_notification>" in text for text in _user_texts(request))
    turn = json.loads(request.json()["client_metadata"]["x-codex-turn-metadata"])
    assert turn["history_initialization"] == "cold_resume"

    server.expect_sse(RESPONSES, sse.assistant_reply("CHILD-AGAIN"))
    resumed = run_cli([*BASE, "--json", "resume", child, "more"], codex_home=home, cwd=work)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.events()[0] == {"type": "thread.started", "thread_id": child}
    request = server.requests[-1]
    headers = request.headers
    assert (headers["session-id"], headers["thread-id"]) == (root, child)
    assert headers["x-codex-parent-thread-id"] == root
    assert headers["x-openai-subagent"] == "collab_spawn"
    assert request.json()["prompt_cache_key"] == root
    turn = json.loads(request.json()["client_metadata"]["x-codex-turn-metadata"])
    assert turn["thread_source"] == "subagent" and turn["parent_thread_id"] == root
    # Still at the depth limit: the resumed child cannot spawn.
    assert all(tool["type"] != "namespace" for tool in request.json()["tools"])


def test_catalog_model_defers_the_namespace_behind_tool_search(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    _config(home, fake_server, "", model="gpt-5.5")
    server = fake_server
    search = {
        "type": "tool_search_call",
        "id": "tsc_1",
        "call_id": "ts_1",
        "status": "completed",
        "execution": "client",
        "arguments": {"query": "spawn sub-agents", "limit": 2},
    }
    server.expect_sse(RESPONSES, sse.tool_calls(search))
    server.expect_sse(RESPONSES, sse.assistant_reply("FOUND"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    first = server.requests[0].json()
    types = [tool["type"] for tool in first["tools"]]
    assert "namespace" not in types and types.count("tool_search") == 1
    tool_search = next(tool for tool in first["tools"] if tool["type"] == "tool_search")
    assert tool_search["execution"] == "client"
    developer = [
        part["text"]
        for item in first["input"]
        if item.get("role") == "developer"
        for part in item["content"]
    ]
    assert any(
        text.startswith("<tools>\nDeferred tool namespaces:\n- multi_agent_v1: ")
        for text in developer
    )
    second = server.requests[1].json()["input"]
    assert search in second  # echoed back exactly
    output = next(item for item in second if item["type"] == "tool_search_output")
    assert {k: output[k] for k in ("call_id", "status", "execution")} == {
        "call_id": "ts_1",
        "status": "completed",
        "execution": "client",
    }
    (namespace,) = output["tools"]
    assert namespace["type"] == "namespace" and namespace["name"] == NS
    assert [tool["name"] for tool in namespace["tools"]] == [
        "spawn_agent", "send_input", "wait_agent", "close_agent", "resume_agent",
    ]  # fmt: skip
    assert all(tool["defer_loading"] is True for tool in namespace["tools"])
    # Both items are in the rollout, so a resumed thread sends them again.
    recorded = [
        line["payload"]["type"]
        for line in _rollout(home, result.events()[0]["thread_id"])
        if line["type"] == "response_item"
    ]
    assert "tool_search_call" in recorded and "tool_search_output" in recorded


def test_multi_agent_feature_off_sends_no_namespace(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    from support.cli import write_config

    write_config(home, fake_server, features={"multi_agent": False})
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    tools = fake_server.requests[0].json()["tools"]
    assert [t for t in tools if t["type"] in ("namespace", "tool_search")] == []


def test_chat_wire_flattens_the_sub_agent_tools(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    """On `wire_api = "chat"` the model sees `multi_agent_v1__spawn_agent`; its call runs the
    namespaced tool, and the child talks Chat Completions too."""
    from support.sse_builders import chat_chunk

    text = (home / "config.toml").read_text()
    text = text.replace('env_key = "FAKE_API_KEY"', 'env_key = "FAKE_API_KEY"\nwire_api = "chat"')
    (home / "config.toml").write_text(text)
    chat = "/v1/chat/completions"

    def call(name: str, arguments: dict[str, Any], call_id: str) -> list[dict[str, Any]]:
        function = {"name": name, "arguments": json.dumps(arguments)}
        delta = {"index": 0, "id": call_id, "type": "function", "function": function}
        return [
            chat_chunk(tool_calls=[delta], role="assistant"),
            chat_chunk(finish_reason="tool_calls"),
        ]

    def reply(text: str) -> list[dict[str, Any]]:
        return [chat_chunk(text, role="assistant"), chat_chunk(finish_reason="stop")]

    def child_request(request: RecordedRequest) -> bool:
        return any(
            m["role"] == "user" and "CHILD-TASK" in str(m["content"])
            for m in request.json()["messages"]
        )

    fake_server.expect_chat_stream(chat, reply("CHILD-RESULT-42"), when=child_request)
    fake_server.expect_chat_stream(
        chat, call("multi_agent_v1__spawn_agent", {"message": CHILD_TASK}, "c_spawn")
    )

    def wait(request: RecordedRequest) -> list[dict[str, Any]]:
        output = next(m for m in request.json()["messages"] if m["role"] == "tool")
        child = json.loads(output["content"])["agent_id"]
        return call("multi_agent_v1__wait_agent", {"targets": [child]}, "c_wait")

    fake_server.expect_chat_stream_from(chat, wait)
    fake_server.expect_chat_stream(chat, reply("PARENT-FINAL"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    first = fake_server.requests[0].json()
    names = [tool["function"]["name"] for tool in first["tools"]]
    assert "multi_agent_v1__spawn_agent" in names and "tool_search" not in names
    last = fake_server.requests[-1].json()["messages"]
    tool_outputs = [m["content"] for m in last if m["role"] == "tool"]
    assert json.loads(tool_outputs[-1])["status"] == {
        json.loads(tool_outputs[0])["agent_id"]: {"completed": "CHILD-RESULT-42"}
    }
    replayed = [c["function"]["name"] for m in last for c in m.get("tool_calls") or []]
    assert replayed == ["multi_agent_v1__spawn_agent", "multi_agent_v1__wait_agent"]


def test_human_output_shows_agents_status_and_final_message(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    script_child(fake_server)
    _spawn_then_wait(fake_server)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-FINAL"))
    result = run_cli([*BASE, "--color", "never", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "PARENT-FINAL\n"
    child = spawned_id(fake_server.requests[-1])
    nickname = json.loads(outputs(fake_server.requests[-1])["c_spawn"])["nickname"]
    agent = f"agent {nickname} ({child})"
    assert f"\ncollab\nspawned {agent}: {CHILD_TASK}\n" in result.stderr
    assert f"\ncollab\n{agent}: completed: CHILD-RESULT-42\n" in result.stderr
    root = fake_server.requests[0].headers["session-id"]
    assert f"\nsession id: {root}\n" in result.stderr


def test_fork_context_and_roles(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    """A forked child starts from the parent's conversation; a role picks the child's model
    and adds its instructions."""
    _config(
        home,
        fake_server,
        '[agents.reviewer]\ndescription = "Reviews."\nmodel = "review-model"\n'
        'developer_instructions = "REVIEWER-RULES"\n',
    )
    server = fake_server
    server.expect_sse(
        RESPONSES, sse.assistant_reply("FORKED-DONE"), when=user_message_contains("FORK-TASK")
    )
    server.expect_sse(
        RESPONSES, sse.assistant_reply("ROLE-DONE"), when=user_message_contains("ROLE-TASK")
    )
    server.expect_sse(
        RESPONSES,
        sse.tool_calls(
            ns_call("spawn_agent", {"message": "FORK-TASK", "fork_context": True}, "c_spawn"),
            ns_call("spawn_agent", {"message": "ROLE-TASK", "agent_type": "reviewer"}, "c_role"),
        ),
    )
    server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-FINAL"))
    result = run_cli([*BASE, "--json", "PARENT-PROMPT"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    spawn_tool = next(
        tool
        for spec in server.requests[0].json()["tools"]
        if spec.get("type") == "namespace"
        for tool in spec["tools"]
        if tool["name"] == "spawn_agent"
    )
    assert "agent_type" in spawn_tool["parameters"]["properties"]
    forked = next(r for r in server.requests if user_message_contains("FORK-TASK")(r))
    texts = _user_texts(forked)
    assert "PARENT-PROMPT" in texts and texts[-1] == "FORK-TASK"
    assert not any(i.get("type") == "function_call" for i in forked.json()["input"])
    turn = json.loads(forked.json()["client_metadata"]["x-codex-turn-metadata"])
    assert turn["history_initialization"] == "forked"
    role = next(r for r in server.requests if user_message_contains("ROLE-TASK")(r))
    assert role.json()["model"] == "review-model"
    developer = str([i for i in role.json()["input"] if i.get("role") == "developer"])
    assert "REVIEWER-RULES" in developer
