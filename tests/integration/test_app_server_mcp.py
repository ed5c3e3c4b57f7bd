"""MCP servers and hooks in `pycodex app-server`: the official SDK (or raw JSON lines) against
real MCP servers (the probe server on the `mcp` SDK, the stdlib one) and the scripted model.

What a client sees: `mcpServer/startupStatus/updated` per server and thread, `mcpToolCall`
items, MCP approvals as `mcpServer/elicitation/request`, a required server that fails as a
failed `thread/start`, hook reports as `warning`s; and no server process outlives the app-server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from openai_codex import Codex
from openai_codex.client import CodexClient
from openai_codex.generated.v2_all import (
    ItemCompletedNotification,
    McpServerStatusUpdatedNotification,
    McpToolCallThreadItem,
)

from support import sse_builders as sse
from support.app_server import RawAppServer, check_notification, close_sdk_pipes, sdk_config
from support.cli import run_cli, write_config
from support.fake_server import FakeModelServer, RecordedRequest
from support.hooks import HookKit, hook_group
from support.mcp_servers import logged_calls, probe_table, process_alive, table

RESPONSES = "/v1/responses"
STATUS = "mcpServer/startupStatus/updated"
STDLIB_SERVER = Path(__file__).resolve().parents[1] / "support" / "mcp_stdlib_server.py"
MISSING = "/nonexistent/mcp-server"
MISSING_ERROR = f"No such file or directory: {MISSING}"


@pytest.fixture(autouse=True)
def _sdk_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    close_sdk_pipes(monkeypatch)


def ns_call(namespace: str, name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {
        **sse.function_call(name, json.dumps(arguments), call_id=call_id),
        "namespace": namespace,
    }


def outputs(request: RecordedRequest) -> dict[str, Any]:
    return {
        item["call_id"]: item["output"]
        for item in request.json()["input"]
        if item.get("type") == "function_call_output"
    }


def statuses_until_started(client: CodexClient) -> list[McpServerStatusUpdatedNotification]:
    """The startup statuses a `thread/start` produced (they precede its `thread/started`)."""
    found = []
    while (note := client.next_notification()).method != "thread/started":
        if note.method == STATUS:
            assert isinstance(note.payload, McpServerStatusUpdatedNotification), note
            found.append(note.payload)
    return found


def test_mcp_tool_calls_reach_the_sdk_as_items_and_the_servers_stop_with_it(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    log = tmp_path / "calls.jsonl"
    servers = probe_table(env={"PROBE_LOG": str(log)}) + table("broken", command=MISSING)
    write_config(home, fake_server, servers)
    calls = [
        ns_call("mcp__probe", "echo", {"text": "hello"}, "c_echo"),
        ns_call("mcp__probe", "add", {"a": 40, "b": 2}, "c_add"),
        ns_call("mcp__probe", "fail", {}, "c_fail"),
    ]
    fake_server.expect_sse(RESPONSES, sse.tool_calls(*calls))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("DONE"))
    with Codex(sdk_config(home, work)) as codex:
        thread = codex.thread_start()
        first = statuses_until_started(codex._client)
        result = thread.run("use the probe")
        second = codex.thread_start()
        later = statuses_until_started(codex._client)

    # The first thread hears every server start, each `starting` before its outcome.
    assert {(s.thread_id, s.name, s.status.value) for s in first} == {
        (thread.id, "broken", "starting"),
        (thread.id, "probe", "starting"),
        (thread.id, "probe", "ready"),
        (thread.id, "broken", "failed"),
    }
    for name in ("broken", "probe"):
        states = [s.status.value for s in first if s.name == name]
        assert states[0] == "starting" and len(states) == 2
    (failed,) = [s for s in first if s.status.value == "failed"]
    assert failed.error == f"MCP server `broken` failed to start: {MISSING_ERROR}"
    assert failed.failure_reason is None
    # A later thread is told where each server stands, once.
    assert [(s.thread_id, s.name, s.status.value) for s in later] == [
        (second.id, "broken", "failed"),
        (second.id, "probe", "ready"),
    ]

    assert result.status.value == "completed" and result.final_response == "DONE"
    items = {
        item.root.id: item.root
        for item in result.items
        if isinstance(item.root, McpToolCallThreadItem)
    }
    assert set(items) == {"c_echo", "c_add", "c_fail"}
    echo = items["c_echo"]
    assert (echo.server, echo.tool, echo.status.value, echo.arguments) == (
        "probe", "echo", "completed", {"text": "hello"},
    )  # fmt: skip
    assert echo.result is not None and echo.error is None
    assert echo.result.content == [{"type": "text", "text": "echo: hello"}]
    assert echo.duration_ms is not None and echo.duration_ms >= 0
    add = items["c_add"]
    assert add.result is not None and add.result.structured_content == {"sum": 42, "note": "added"}
    fail = items["c_fail"]
    assert fail.status.value == "failed" and fail.error is None  # an isError result
    assert fail.result is not None
    assert fail.result.content[0]["text"].endswith("tool failed: nope")

    out = outputs(fake_server.requests[1])
    assert out["c_echo"][1:] == [{"type": "input_text", "text": "echo: hello"}]
    assert out["c_add"].endswith('Output:\n{"sum":42,"note":"added"}')
    tools = [t["name"] for t in fake_server.requests[0].json()["tools"]]
    assert "mcp__probe" in tools and "mcp__broken" not in tools

    (pid,) = {call["pid"] for call in logged_calls(log)}
    assert not process_alive(pid)  # stopped with the app-server the SDK closed


def test_mcp_approvals_are_elicitation_requests(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    write_config(home, fake_server, probe_table(env={"PROBE_NOTES": str(notes)}))
    for call_id, note in (("c_1", "one"), ("c_2", "two"), ("c_3", "three")):
        call = ns_call("mcp__probe", "write_note", {"note": note}, call_id)
        fake_server.expect_sse(RESPONSES, sse.tool_calls(call))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("DONE"))
    answers: list[dict[str, Any]] = [
        {},  # what the SDK's default handler answers to requests it does not know
        {"action": "accept", "content": {}, "_meta": {"persist": "session"}},
    ]
    asked: list[tuple[str, dict[str, Any]]] = []

    def handler(method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        asked.append((method, params or {}))
        return answers.pop(0)

    with CodexClient(sdk_config(home, work), approval_handler=handler) as client:
        client.initialize()
        thread_id = client.thread_start({"approvalPolicy": "on-request"}).thread.id
        turn = client.turn_start(thread_id, "write notes").turn
        events = []
        while (event := client.next_turn_notification(turn.id)).method != "turn/completed":
            events.append(event)

    assert [method for method, _ in asked] == ["mcpServer/elicitation/request"] * 2
    params = asked[0][1]
    assert (params["threadId"], params["turnId"], params["serverName"]) == (
        thread_id, turn.id, "probe",
    )  # fmt: skip
    assert params["mode"] == "form"
    assert params["requestedSchema"] == {"type": "object", "properties": {}}
    assert params["_meta"]["codex_approval_kind"] == "mcp_tool_call"
    assert params["_meta"]["tool_params"] == {"note": "one"}
    assert "write_note" in params["message"]
    assert notes.read_text() == "two\nthree\n"  # declined, accepted for the session, then ran

    done = [
        e.payload.item.root
        for e in events
        if isinstance(e.payload, ItemCompletedNotification)
        and isinstance(e.payload.item.root, McpToolCallThreadItem)
    ]
    assert [(i.id, i.status.value) for i in done] == [
        ("c_1", "failed"), ("c_2", "completed"), ("c_3", "completed"),
    ]  # fmt: skip
    assert done[0].error is not None and "declined" in done[0].error.message
    declined = outputs(fake_server.requests[1])["c_1"]
    assert "declined" in declined[1]["text"]


def test_a_required_server_that_fails_fails_thread_start(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    servers = table("ping", command=sys.executable, args=[str(STDLIB_SERVER)])
    servers += table("broken", command=MISSING, required=True)
    write_config(home, fake_server, servers)
    with RawAppServer(home, work) as server:
        server.initialize()
        server.request("thread/start", {})
        seen = server.until(lambda m: "id" in m and "method" not in m)
        for message in seen[:-1]:
            check_notification(message)
        statuses = [(m["params"]["name"], m["params"]["status"]) for m in seen[:-1]]
        assert sorted(statuses) == [
            ("broken", "failed"), ("broken", "starting"), ("ping", "ready"), ("ping", "starting"),
        ]  # fmt: skip
        assert seen[-1]["error"] == {
            "code": -32603,
            "message": "error creating thread: required MCP servers failed to initialize: "
            f"broken: {MISSING_ERROR}",
        }
        ping_pids = children_running(server.proc.pid, STDLIB_SERVER.name)
        assert ping_pids == []  # the servers that did start were stopped again

        again = server.call("thread/start", {})  # tries again, and fails the same way
        assert again["error"]["code"] == -32603
        assert server.call("thread/list", {})["result"]["data"] == []  # still serving
        assert server.close() == 0
    assert list((home / "sessions").rglob("*.jsonl")) == []
    assert fake_server.requests == []


def test_servers_stop_when_the_client_hangs_up(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    write_config(
        home, fake_server, table("ping", command=sys.executable, args=[str(STDLIB_SERVER)])
    )
    with RawAppServer(home, work) as server:
        server.initialize()
        started = server.call("thread/start", {})
        assert "result" in started, started
        (pid,) = children_running(server.proc.pid, STDLIB_SERVER.name)
        assert server.close() == 0  # stdin closed, no signal
    assert not process_alive(pid)


def children_running(pid: int, marker: str) -> list[int]:
    """The live children of `pid` whose command line mentions `marker`."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if marker.encode() in cmdline and process_alive(int(child)):
                found.append(int(child))
    return found


def test_hook_reports_bypass_warnings_and_notify_reach_the_client(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    import os

    kit = HookKit(tmp_path / "hooks")
    fifo = tmp_path / "notify.fifo"
    os.mkfifo(fifo)
    program = tmp_path / "notify.py"
    program.write_text(
        "import sys\nwith open(sys.argv[1], 'w', encoding='utf-8') as fifo:\n"
        "    fifo.write(sys.argv[-1])\n"
    )
    config = home / "config.toml"
    argv = json.dumps([sys.executable, str(program), str(fifo)])
    config.write_text(f"notify = {argv}\n" + config.read_text())
    with config.open("a", encoding="utf-8") as out:  # untrusted: runs only with the bypass flag
        out.write(hook_group("UserPromptSubmit", kit.command("prompt", stderr="nope", exit=1)))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("done"))
    with RawAppServer(home, work, "--dangerously-bypass-hook-trust", SHELL="/bin/sh") as server:
        server.initialize()
        thread_id = server.call("thread/start", {})["result"]["thread"]["id"]
        turn = server.call(
            "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "go"}]}
        )
        turn_id = turn["result"]["turn"]["id"]
        seen = server.until(
            lambda m: m.get("method") == "turn/completed" and m["params"]["turn"]["id"] == turn_id
        )
        notice = json.loads(read_fifo(fifo))
        assert server.close() == 0
    for message in seen:
        if "method" in message:
            check_notification(message)
    warnings = [m["params"] for m in seen if m.get("method") == "warning"]
    assert all(w["threadId"] == thread_id for w in warnings)
    texts = [w["message"] for w in warnings]
    assert len(texts) == 3, texts
    assert all(t.startswith("`--dangerously-bypass-hook-trust` is enabled") for t in texts[:2])
    assert texts[2].startswith("hook: ") and "exited with code 1" in texts[2]
    assert len(kit.payloads("prompt")) == 1  # the untrusted hook ran
    assert (notice["thread-id"], notice["turn-id"], notice["client"]) == (
        thread_id, turn_id, "raw_test",
    )  # fmt: skip
    assert notice["input-messages"] == ["go"] and notice["last-assistant-message"] == "done"


def read_fifo(fifo: Path) -> str:
    """What the notify program writes into `fifo` (it blocks until this reads)."""
    import threading

    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    (text,) = received
    return text


def test_a_bad_mcp_server_table_ends_the_launch(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    write_config(home, fake_server, table("bad", command="x", args="not-a-list"))
    result = run_cli(["app-server"], codex_home=home, cwd=work, stdin="")
    assert (result.returncode, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and "mcp_servers.bad.args" in line, line
