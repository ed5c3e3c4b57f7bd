"""Approval questions as the server's requests to the client, and the client's answers.

- a command: `item/commandExecution/requestApproval`, answered `{decision}`: `accept`,
  `acceptForSession`, `{acceptWithExecpolicyAmendment: {execpolicy_amendment}}`, `decline`,
  `cancel`;
- a patch: `item/fileChange/requestApproval`, the same decisions;
- an MCP tool call: `mcpServer/elicitation/request`, a form with no fields whose `_meta` says
  `codex_approval_kind: "mcp_tool_call"` (upstream's way of asking), answered `{action}`:
  `accept` (with `_meta.persist` `session` or `always`: allow that tool for the rest of the
  process), `decline`, `cancel`.

Anything else (an error response, an answer not understood, the SDK's default `{}` for requests
it does not know) declines.

A sub-agent's request is the same request with the sub-agent's `threadId` and the `turnId` of its
own turn; the answer goes back to the sub-agent.
"""

from __future__ import annotations

from typing import Any

from pycodex.frontends.app_server import rpc
from pycodex.frontends.app_server.loaded import ApprovalRequest, LoadedThread, log
from pycodex.frontends.app_server.transport import now_ms
from pycodex.frontends.app_server.wire import Json
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ReviewDecision

MCP_APPROVAL_KIND = "mcp_tool_call"


def approval_request(thread: LoadedThread, request: ApprovalRequest) -> tuple[str, Json]:
    """The method and params of the request that asks the client about a loaded thread."""
    turn = thread.translator.active
    return approval_params(thread.thread_id, turn.id if turn is not None else "", request)


def approval_params(thread_id: str, turn_id: str, request: ApprovalRequest) -> tuple[str, Json]:
    """The method and params of the request that asks about `thread_id`'s turn `turn_id`."""
    if isinstance(request, ev.McpToolApprovalRequest):
        return "mcpServer/elicitation/request", _mcp_params(thread_id, turn_id, request)
    base = {
        "threadId": thread_id,
        "turnId": turn_id,
        "itemId": request.call_id,
        "startedAtMs": now_ms(),
        "reason": request.reason,
    }
    if isinstance(request, ev.PatchApprovalRequest):
        return "item/fileChange/requestApproval", {**base, "grantRoot": None}
    prefix = list(request.proposed_prefix)
    amend = {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": prefix}}
    decisions: list[Any] = ["accept", "acceptForSession", *([amend] if prefix else [])]
    return "item/commandExecution/requestApproval", {
        **base,
        "kind": "command",
        "environmentId": "local",
        "command": request.command,
        "cwd": str(request.cwd),
        "commandActions": [{"type": "unknown", "command": request.command}],
        "proposedExecpolicyAmendment": prefix or None,
        "availableDecisions": [*decisions, "decline", "cancel"],
    }


def _mcp_params(thread_id: str, turn_id: str, request: ev.McpToolApprovalRequest) -> Json:
    return {
        "threadId": thread_id,
        "turnId": turn_id,
        "serverName": request.server,
        "mode": "form",
        "message": f"Allow the MCP server `{request.server}` to run its tool `{request.tool}`?",
        "requestedSchema": {"type": "object", "properties": {}},
        "_meta": {
            "codex_approval_kind": MCP_APPROVAL_KIND,
            "persist": "session",
            "tool_name": request.tool,
            "tool_params": request.arguments,
        },
    }


_DECISIONS: dict[str, ReviewDecision] = {
    "accept": "approved",
    "acceptForSession": "approved_for_session",
    "decline": "denied",
    "cancel": "abort",
}
_ACTIONS: dict[str, ReviewDecision] = {"accept": "approved", "decline": "denied", "cancel": "abort"}


def review_decision(
    response: rpc.Response, request: ApprovalRequest
) -> tuple[ReviewDecision, list[str]]:
    """The client's answer as an engine decision, and a prefix to allow for good (or [])."""
    result = response.result if isinstance(response.result, dict) else {}
    if isinstance(request, ev.McpToolApprovalRequest):
        return _mcp_decision(result, response.error is None), []
    decision = result.get("decision")
    if isinstance(decision, str) and decision in _DECISIONS:
        return _DECISIONS[decision], []
    if isinstance(decision, dict) and isinstance(request, ev.ExecApprovalRequest):
        amendment = (decision.get("acceptWithExecpolicyAmendment") or {}).get(
            "execpolicy_amendment"
        )
        if isinstance(amendment, list) and amendment and all(isinstance(a, str) for a in amendment):
            return "approved", list(amendment)
    if response.error is None:
        log(f"approval answer {decision!r} not understood: declined")
    return "denied", []


def _mcp_decision(result: dict[str, Any], answered: bool) -> ReviewDecision:
    action = result.get("action")
    if not isinstance(action, str) or action not in _ACTIONS:
        if answered:
            log(f"MCP approval answer {action!r} not understood: declined")
        return "denied"
    meta = result.get("_meta")
    persist = meta.get("persist") if isinstance(meta, dict) else None
    if action == "accept" and persist in ("session", "always"):
        return "approved_for_session"
    return _ACTIONS[action]
