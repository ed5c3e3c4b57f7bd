"""Engine events -> app-server notifications, checked against the SDK's notification models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pycodex.frontends.app_server import rpc
from pycodex.frontends.app_server.translate import TurnTranslator
from pycodex.protocol import events as ev
from pycodex.protocol.usage import TokenUsage
from support.app_server import check_notification

Sent = list[tuple[str, dict[str, Any]]]


def translator() -> tuple[TurnTranslator, Sent]:
    sent: Sent = []
    return TurnTranslator("thread-1", lambda method, params: sent.append((method, params))), sent


def methods(sent: Sent) -> list[str]:
    for method, params in sent:
        check_notification({"method": method, "params": params})
    return [method for method, _ in sent]


def test_command_patch_and_plan_items() -> None:
    tr, sent = translator()
    cwd = Path("/work")
    change = ev.FileChange("a.txt", "add")
    for event in [
        ev.TurnStarted("turn-1"),
        ev.ExecApprovalRequest("c1", "rm -rf x", cwd, "why", ("rm",), True),
        ev.ExecCommandBegin("c1", "rm -rf x", cwd),
        ev.ExecCommandOutputDelta("c1", "partial\n"),
        ev.ExecCommandEnd("c1", "rm -rf x", cwd, 2, "partial\nboom\n", 0.5, "completed"),
        ev.PatchApplyBegin("p1", (change,)),
        ev.PatchApplyEnd("p1", (), False, "no"),
        ev.PlanUpdated("steps", (ev.PlanStep("write", "in_progress"),)),
        ev.TokenCount(TokenUsage(total_tokens=3), TokenUsage(total_tokens=3), 1000),
        ev.TurnComplete("turn-1", None),
    ]:
        tr.process(event)
    assert methods(sent) == [
        "thread/status/changed",
        "turn/started",
        "item/started",
        "item/commandExecution/outputDelta",
        "item/completed",
        "item/started",
        "item/completed",
        "turn/plan/updated",
        "thread/tokenUsage/updated",
        "thread/status/changed",
        "turn/completed",
    ]
    command = sent[4][1]["item"]
    assert (command["status"], command["exitCode"], command["durationMs"]) == ("failed", 2, 500)
    patch = sent[6][1]["item"]
    assert patch["status"] == "failed" and patch["changes"][0]["path"] == "a.txt"
    assert [i["id"] for i in tr.turns[0].items] == ["c1", "p1"]


def test_manual_compaction_runs_as_a_turn_of_its_own() -> None:
    tr, sent = translator()
    tr.process(ev.CompactionStarted("manual", 100))
    assert tr.synthetic
    tr.process(ev.CompactionCompleted("manual", 100, 10, 1, 5, False))
    assert methods(sent) == [
        "thread/status/changed",
        "turn/started",
        "item/started",
        "item/completed",
        "thread/compacted",
        "thread/status/changed",
        "turn/completed",
    ]
    assert sent[-1][1]["turn"]["status"] == "completed" and not tr.synthetic


def test_interrupted_turn_and_error_kinds() -> None:
    tr, sent = translator()
    tr.process(ev.TurnStarted("t"))
    tr.process(ev.StreamRetry(1, 2, "stream closed"))
    tr.process(ev.Error("quota gone", "usage_limit_exceeded"))
    tr.process(ev.TurnAborted("t", "interrupted"))
    methods(sent)
    retry, final = (params for method, params in sent if method == "error")
    assert retry["willRetry"] and retry["error"]["message"] == "Reconnecting... 1/2 (stream closed)"
    assert not final["willRetry"]
    assert final["error"]["codexErrorInfo"] == "usageLimitExceeded"
    turn = sent[-1][1]["turn"]
    assert (turn["status"], turn["items"], turn["itemsView"]) == ("interrupted", [], "notLoaded")


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{", rpc.PARSE_ERROR),
        (b'"text"', rpc.INVALID_REQUEST),
        (b'{"id": true, "method": "x"}', rpc.INVALID_REQUEST),
        (b'{"id": "1", "method": "x", "params": [1]}', rpc.INVALID_PARAMS),
        (b'{"id": "1"}', rpc.INVALID_REQUEST),
    ],
)
def test_bad_lines_are_classified(line: bytes, code: int) -> None:
    with pytest.raises(rpc.BadMessage) as bad:
        rpc.parse_message(line)
    assert bad.value.error.code == code


def test_messages_are_told_apart() -> None:
    assert rpc.parse_message(b'{"id": "a", "method": "m"}') == rpc.Request("a", "m", {})
    assert rpc.parse_message(b'{"method": "initialized"}') == rpc.Notification("initialized", {})
    assert rpc.parse_message(b'{"id": 0, "result": {"decision": "accept"}}') == rpc.Response(
        0, {"decision": "accept"}
    )


def test_sub_agent_web_search_and_reasoning_items() -> None:
    from pycodex.protocol.agents import AgentStatus

    tr, sent = translator()
    done = AgentStatus("completed", "child says hi")
    for event in [
        ev.TurnStarted("t"),
        ev.ReasoningDelta("think", "rs_1"),
        ev.Reasoning("think", "rs_1"),
        ev.WebSearchBegin("ws_1"),
        ev.WebSearchEnd("ws_1", "weather", {"type": "search", "query": "weather"}),
        ev.CollabToolCallBegin("c1", "spawn_agent", "thread-1", (), "do it"),
        ev.CollabToolCallEnd(
            "c1",
            "spawn_agent",
            "thread-1",
            ("child",),
            "do it",
            (("child", done),),
            True,
            (("child", "Ada"),),
            "m",
            "low",
        ),
        ev.TurnComplete("t", None),
    ]:
        tr.process(event)
    methods(sent)
    completed = [params["item"] for method, params in sent if method == "item/completed"]
    assert [item["type"] for item in completed] == ["reasoning", "webSearch", "collabAgentToolCall"]
    assert completed[0]["summary"] == ["think"]
    assert completed[1]["query"] == "weather"
    collab = completed[2]
    assert (collab["tool"], collab["status"], collab["receiverThreadIds"]) == (
        "spawnAgent",
        "completed",
        ["child"],
    )
    assert collab["agentsStates"] == {"child": {"status": "completed", "message": "child says hi"}}


def test_mcp_tool_calls_are_mcp_tool_call_items() -> None:
    from openai_codex.generated.v2_all import McpToolCallThreadItem

    tr, sent = translator()
    args = {"text": "hi"}
    result = {"content": [{"type": "text", "text": "echo: hi"}], "structured_content": None}
    refused = "MCP tool call requires approval, but approval policy is never"
    for event in [
        ev.TurnStarted("t"),
        ev.McpToolCallBegin("c1", "my-srv.v2", "read-file", args),
        ev.McpToolApprovalRequest("c1", "my-srv.v2", "read-file", args),
        ev.McpToolCallEnd("c1", "my-srv.v2", "read-file", args, result, None, True, 0.25),
        ev.McpToolCallBegin("c2", "probe", "add", {"a": 1}),
        ev.McpToolCallEnd("c2", "probe", "add", {"a": 1}, None, refused, False, 0.0),
        ev.TurnComplete("t", None),
    ]:
        tr.process(event)
    assert methods(sent) == [
        "thread/status/changed",
        "turn/started",
        "item/started",
        "item/completed",
        "item/started",
        "item/completed",
        "thread/status/changed",
        "turn/completed",
    ]
    started, done = sent[2][1]["item"], sent[3][1]["item"]
    assert started == {
        "type": "mcpToolCall",
        "id": "c1",
        "server": "my-srv.v2",
        "tool": "read-file",
        "status": "inProgress",
        "arguments": {"text": "hi"},
        "result": None,
        "error": None,
        "durationMs": None,
    }
    assert done == {
        **started,
        "status": "completed",
        "result": {
            "content": [{"type": "text", "text": "echo: hi"}],
            "structuredContent": None,
            "_meta": None,
        },
        "durationMs": 250,
    }
    failed = McpToolCallThreadItem.model_validate(sent[5][1]["item"])
    assert failed.status.value == "failed" and failed.result is None
    assert failed.error is not None and failed.error.message == refused
    assert [item["id"] for item in tr.turns[0].items] == ["c1", "c2"]


def test_a_hook_report_is_a_warning_for_the_user() -> None:
    tr, sent = translator()
    tr.process(ev.TurnStarted("t"))
    tr.process(ev.HookReport("PreToolUse hook failed: exited with code 1"))
    assert methods(sent)[-1] == "warning"
    assert sent[-1][1] == {
        "threadId": "thread-1",
        "message": "hook: PreToolUse hook failed: exited with code 1",
    }
