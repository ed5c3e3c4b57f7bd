"""The client's answers to approval requests, as engine decisions (MCP calls are elicitations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pycodex.frontends.app_server import rpc
from pycodex.frontends.app_server.approvals import review_decision
from pycodex.protocol import events as ev

MCP = ev.McpToolApprovalRequest("c1", "probe", "write_note", {"note": "x"})
COMMAND = ev.ExecApprovalRequest("c2", "touch x", Path("/w"), None, ("touch", "x"), True)


@pytest.mark.parametrize(
    ("result", "decision"),
    [
        ({"action": "accept", "content": {}, "_meta": None}, "approved"),
        (
            {"action": "accept", "content": {}, "_meta": {"persist": "session"}},
            "approved_for_session",
        ),
        ({"action": "accept", "_meta": {"persist": "always"}}, "approved_for_session"),
        ({"action": "decline", "content": None}, "denied"),
        ({"action": "cancel", "content": None}, "abort"),
        ({}, "denied"),  # the SDK's default handler for requests it does not know
        ({"decision": "accept"}, "denied"),  # a command's answer is not an MCP answer
        ("accept", "denied"),
    ],
)
def test_mcp_answers(result: Any, decision: str) -> None:
    assert review_decision(rpc.Response(0, result), MCP) == (decision, [])


def test_an_error_response_declines_an_mcp_call() -> None:
    response = rpc.Response(0, None, {"code": -32603, "message": "no UI"})
    assert review_decision(response, MCP) == ("denied", [])


def test_an_mcp_answer_does_not_approve_a_command() -> None:
    assert review_decision(rpc.Response(0, {"action": "accept"}), COMMAND) == ("denied", [])
    amend = {"decision": {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch"]}}}
    assert review_decision(rpc.Response(0, amend), COMMAND) == ("approved", ["touch"])
