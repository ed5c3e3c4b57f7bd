"""The pure parts of MCP support: names, config tables, approval rules, output shapes, search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pycodex.config import ConfigError
from pycodex.mcp.config import parse_server
from pycodex.mcp.connection import McpConnection, McpToolInfo
from pycodex.mcp.names import namespace_name, sanitize
from pycodex.mcp.output import McpCallResult, error_output, model_output
from pycodex.mcp.tools import (
    NEVER_REFUSAL,
    McpTool,
    call_meta,
    needs_approval,
    server_namespace,
)
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ReviewDecision
from pycodex.protocol.policies import AskForApproval, SandboxPolicy
from pycodex.tools.base import CallerIdentity, ToolContext
from pycodex.tools.namespaces import search_namespaces
from pycodex.tools.services import ToolServices


def test_names_are_sanitised_as_upstream_does() -> None:
    assert namespace_name("my-srv.v2") == "mcp__my_srv_v2"
    assert [sanitize(n) for n in ("read-file", "get.weather", "Upper_Case", "a b")] == [
        "read_file", "get_weather", "Upper_Case", "a_b",
    ]  # fmt: skip
    assert sanitize("x" * 70) == "x" * 70


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"command": "x", "args": "not-a-list"}, "mcp_servers.s.args: expected an array"),
        ({"url": "u", "command": "x"}, "mcp_servers.s: set either `command`"),
        ({}, "mcp_servers.s: needs `command`"),
        ({"command": "x", "startup_timeout_sec": "ten"}, "startup_timeout_sec: expected a"),
        ({"command": "x", "default_tools_approval_mode": "yes"}, "expected one of auto"),
        ({"command": "x", "tools": {"t": {"approval_mode": 3}}}, "mcp_servers.s.tools.t.appr"),
    ],
)
def test_bad_tables_are_one_clear_line(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_server("s", table)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_tool_filters_and_approval_modes() -> None:
    server = parse_server(
        "s",
        {
            "command": "x",
            "enabled_tools": ["one", "two"],
            "disabled_tools": ["two"],
            "default_tools_approval_mode": "prompt",
            "tools": {"one": {"approval_mode": "approve"}},
            "startup_timeout_ms": 2500,
        },
    )
    assert [t for t in ("one", "two", "three") if server.offers(t)] == ["one"]
    assert (server.approval_mode("one"), server.approval_mode("other")) == ("approve", "prompt")
    assert (server.startup_timeout_s, server.tool_timeout_s) == (2.5, 60.0)


def test_the_approval_table() -> None:
    # mode: (read-only tool, other tool) -> asks?
    assert [needs_approval("auto", True), needs_approval("auto", False)] == [False, True]
    assert [needs_approval("prompt", True), needs_approval("prompt", False)] == [True, True]
    assert [needs_approval("approve", True), needs_approval("approve", False)] == [False, False]


def test_call_meta_names_the_call_and_the_caller_when_there_is_one() -> None:
    context = ToolContext("c1", "t1", Path("/"), SandboxPolicy.read_only())
    assert call_meta(context) == {"callId": "c1"}  # a tool run outside a turn
    metadata = {"session_id": "s", "thread_id": "th", "turn_id": "t1"}
    context.caller = CallerIdentity("s", "th", "th:0", metadata)
    assert call_meta(context) == {
        "callId": "c1",
        "x-codex-turn-metadata": metadata,
        "threadId": "th",
        "sessionId": "s",
        "windowId": "th:0",
    }


class _Approver:
    """Answers approval requests from a list, and keeps what it was asked."""

    def __init__(self, *answers: ReviewDecision) -> None:
        self.answers = list(answers)
        self.asked: list[ev.ApprovalRequest] = []

    async def ask(self, request: ev.ApprovalRequest) -> ReviewDecision:
        self.asked.append(request)
        return self.answers.pop(0)


def _tool(mode: str | None = None, read_only: bool = False) -> McpTool:
    table: dict[str, Any] = {"command": "x"}
    if mode is not None:
        table["default_tools_approval_mode"] = mode
    connection = McpConnection(parse_server("srv", table), cwd=Path("/"), env={})
    info = McpToolInfo("write", "Writes.", {"type": "object"}, read_only_hint=read_only)
    connection.tools = [info]
    (tool,) = server_namespace(connection, set()).tools
    assert isinstance(tool, McpTool)
    return tool


def _context(policy: AskForApproval, sandbox: SandboxPolicy, approver: Any = None) -> ToolContext:
    services = ToolServices(approvals=approver)
    return ToolContext("c1", "t1", Path("/"), sandbox, policy, services=services)


async def test_approval_under_each_policy() -> None:
    never = _context(AskForApproval.NEVER, SandboxPolicy.read_only())
    assert await _tool()._approval(never, {}) == NEVER_REFUSAL
    assert await _tool(read_only=True)._approval(never, {}) is None
    assert await _tool("prompt", read_only=True)._approval(never, {}) == NEVER_REFUSAL
    assert await _tool("approve")._approval(never, {}) is None
    yolo = _context(AskForApproval.NEVER, SandboxPolicy.full_access())
    assert await _tool()._approval(yolo, {}) is None

    approver = _Approver("approved_for_session", "denied")
    asking = _context(AskForApproval.ON_REQUEST, SandboxPolicy.read_only(), approver)
    tool = _tool()
    assert await tool._approval(asking, {"a": 1}) is None
    assert await tool._approval(asking, {"a": 2}) is None  # allowed for the session: not asked
    assert approver.asked == [ev.McpToolApprovalRequest("c1", "srv", "write", {"a": 1})]
    other = _tool()
    refusal = await other._approval(asking, {})
    assert refusal is not None and refusal.startswith("the user declined")


def test_model_output_shapes() -> None:
    text = model_output(McpCallResult([{"type": "text", "text": "hi"}]), 0.07901)
    assert text.text == "Wall time: 0.0790 seconds\nOutput:"
    assert text.content_items == ({"type": "input_text", "text": "hi"},) and text.success
    structured = model_output(McpCallResult([{"type": "text", "text": "x"}], {"sum": 42}), 0.5)
    assert structured.text == 'Wall time: 0.5000 seconds\nOutput:\n{"sum":42}'
    assert structured.content_items == ()
    image = {"type": "image", "data": "AAAA", "mimeType": "image/jpeg"}
    failed = model_output(McpCallResult([image], None, is_error=True), 0.0)
    assert failed.content_items == (
        {"type": "input_image", "image_url": "data:image/jpeg;base64,AAAA"},
    )
    assert not failed.success
    refused = error_output("no", 1.0)
    assert refused.content_items == ({"type": "input_text", "text": "no"},) and not refused.success


def test_tool_search_matches_mcp_tools_one_by_one() -> None:
    connection = McpConnection(parse_server("probe", {"command": "x"}), cwd=Path("/"), env={})
    connection.tools = [
        McpToolInfo("echo", "Echo the text back.", {"type": "object"}),
        McpToolInfo("add", "Add two integers.", {"type": "object"}),
        McpToolInfo("fail", "Always fails.", {"type": "object"}),
    ]
    namespace = server_namespace(connection, set())
    (found,) = search_namespaces([namespace], "echo text", 8)
    assert [tool.name for tool in found.tools] == ["echo"]
    (everything,) = search_namespaces([namespace], "echo text probe", 8)
    assert [tool.name for tool in everything.tools] == ["add", "echo", "fail"]
    (limited,) = search_namespaces([namespace], "probe", 2)
    assert len(limited.tools) == 2
    assert search_namespaces([namespace], "weather", 8) == []
