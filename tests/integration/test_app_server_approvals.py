"""Approvals through the app-server: the SDK's low-level client answers the server's requests
(`item/commandExecution/requestApproval`, `item/fileChange/requestApproval`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai_codex.client import CodexClient
from openai_codex.generated.v2_all import (
    CommandExecutionThreadItem,
    ItemCompletedNotification,
    ServerRequestResolvedNotification,
)

from pycodex.execution.sandbox import sandbox_status
from pycodex.tools.rules import RULES_FILE
from support import sse_builders as sse
from support.app_server import close_sdk_pipes, sdk_config
from support.fake_server import FakeModelServer

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason="no sandbox mechanism on this machine"
)

Answer = dict[str, Any]


@pytest.fixture(autouse=True)
def _sdk_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    close_sdk_pipes(monkeypatch)


def escalated_call(target: Path) -> dict[str, Any]:
    args = {
        "cmd": f"touch {target}",
        "login": False,
        "sandbox_permissions": "require_escalated",
        "justification": "needs to write outside the workspace",
    }
    return sse.function_call("exec_command", json.dumps(args), call_id="call_a")


def run_with_answer(
    server: FakeModelServer, home: Path, work: Path, target: Path, answer: Answer
) -> tuple[list[tuple[str, dict[str, Any]]], list[Any], Any]:
    """One turn whose command asks for escalation; returns the requests the client saw, the
    turn's notifications and the global ones."""
    server.expect_sse("/v1/responses", sse.tool_calls(escalated_call(target)))
    server.expect_sse("/v1/responses", sse.assistant_reply("finished", response_id="r2"))
    asked: list[tuple[str, dict[str, Any]]] = []

    def handler(method: str, params: dict[str, Any] | None) -> Answer:
        asked.append((method, params or {}))
        return answer

    with CodexClient(sdk_config(home, work), approval_handler=handler) as client:
        client.initialize()
        thread = client.thread_start(
            {"approvalPolicy": "on-request", "approvalsReviewer": "user", "sandbox": "read-only"}
        ).thread
        turn = client.turn_start(thread.id, "touch the file").turn
        client.register_turn_notifications(turn.id)
        events = []
        while True:
            event = client.next_turn_notification(turn.id)
            events.append(event)
            if event.method == "turn/completed":
                break
        resolved = client.next_notification()
        while resolved.method != "serverRequest/resolved":
            resolved = client.next_notification()
    return asked, events, resolved.payload


def command_item(events: list[Any]) -> CommandExecutionThreadItem:
    for event in events:
        payload = event.payload
        if isinstance(payload, ItemCompletedNotification) and isinstance(
            payload.item.root, CommandExecutionThreadItem
        ):
            return payload.item.root
    raise AssertionError("no completed command item")


def test_accept_runs_the_command_outside_the_sandbox(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    target = tmp_path / "approved.txt"
    asked, events, resolved = run_with_answer(
        fake_server, home, work, target, {"decision": "accept"}
    )
    assert [method for method, _ in asked] == ["item/commandExecution/requestApproval"]
    params = asked[0][1]
    assert params["itemId"] == "call_a"
    assert params["reason"] == "needs to write outside the workspace"
    assert params["command"].endswith(f"-c 'touch {target}'") or str(target) in params["command"]
    assert "accept" in params["availableDecisions"] and "decline" in params["availableDecisions"]
    assert target.exists()
    item = command_item(events)
    assert item.status.value == "completed" and item.exit_code == 0
    assert isinstance(resolved, ServerRequestResolvedNotification)
    assert resolved.request_id.root == 0
    started = [e.payload.item.root.id for e in events if e.method == "item/started"]
    assert started.count("call_a") == 1


def test_decline_leaves_the_file_alone_and_tells_the_model(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    target = tmp_path / "declined.txt"
    _, events, _ = run_with_answer(fake_server, home, work, target, {"decision": "decline"})
    assert not target.exists()
    assert command_item(events).status.value == "declined"
    outputs = [
        item["output"]
        for item in fake_server.requests[1].json()["input"]
        if item.get("type") == "function_call_output"
    ]
    assert outputs and "did not allow" in outputs[0]


def test_accept_with_amendment_persists_a_prefix_rule(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    target = tmp_path / "ruled.txt"
    answer = {"decision": {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch"]}}}
    asked, _, _ = run_with_answer(fake_server, home, work, target, answer)
    assert asked[0][1]["proposedExecpolicyAmendment"] == ["touch", str(target)]
    assert target.exists()
    rules = (home / RULES_FILE).read_text()
    assert rules == 'prefix_rule(pattern=["touch"], decision="allow")\n'


def test_a_sub_agents_request_names_its_thread_and_the_answer_reaches_it(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    from support.fake_server import RecordedRequest, user_message_contains

    target = tmp_path / "child-approved.txt"
    when = user_message_contains("CHILD-TASK-9b2")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(escalated_call(target)), when=when)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("CHILD-TOUCHED"), when=when)
    spawn = {"message": "CHILD-TASK-9b2: touch the file"}
    fake_server.expect_sse("/v1/responses", sse.tool_calls(namespaced("spawn_agent", spawn, "c1")))

    def wait_for_child(request: RecordedRequest) -> list[dict[str, Any]]:
        child = json.loads(call_outputs(request)["c1"])["agent_id"]
        return sse.tool_calls(namespaced("wait_agent", {"targets": [child]}, "c2"))

    fake_server.expect_sse_from("/v1/responses", wait_for_child)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("PARENT-DONE", response_id="r9"))
    asked: list[tuple[str, dict[str, Any]]] = []

    def handler(method: str, params: dict[str, Any] | None) -> Answer:
        asked.append((method, params or {}))
        return {"decision": "accept"}

    with CodexClient(sdk_config(home, work), approval_handler=handler) as client:
        client.initialize()
        thread = client.thread_start(
            {"approvalPolicy": "on-request", "approvalsReviewer": "user", "sandbox": "read-only"}
        ).thread
        result = client.turn_start(thread.id, "delegate the touching").turn
        client.register_turn_notifications(result.id)
        while client.next_turn_notification(result.id).method != "turn/completed":
            pass
        resolved = client.next_notification()
        while resolved.method != "serverRequest/resolved":
            resolved = client.next_notification()

    child = json.loads(call_outputs(fake_server.requests[-1])["c1"])["agent_id"]
    assert [method for method, _ in asked] == ["item/commandExecution/requestApproval"]
    params = asked[0][1]
    assert params["threadId"] == child != thread.id
    assert params["turnId"] and params["turnId"] != result.id
    assert params["itemId"] == "call_a"
    assert target.exists()
    assert json.loads(call_outputs(fake_server.requests[-1])["c2"])["status"] == {
        child: {"completed": "CHILD-TOUCHED"}
    }
    assert isinstance(resolved.payload, ServerRequestResolvedNotification)
    assert resolved.payload.thread_id == child


def namespaced(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    call = sse.function_call(name, json.dumps(arguments), call_id=call_id)
    return {**call, "namespace": "multi_agent_v1"}


def call_outputs(request: Any) -> dict[str, str]:
    return {
        item["call_id"]: item["output"]
        for item in request.json()["input"]
        if item.get("type") == "function_call_output"
    }
