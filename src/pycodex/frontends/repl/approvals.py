"""Approval requests in the REPL: show what is asked, read y / s / a / n / x, answer the engine.

A sub-agent's request reads the same, opening with the agent's name ("Agent Hopper wants to
run ..."); `approval_queue` makes sure only one question is on screen at a time."""

from __future__ import annotations

import json

from pycodex.frontends.repl.user_input import QuestionHost
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ReviewDecision

CHOICES: dict[str, ReviewDecision] = {
    "y": "approved",
    "s": "approved_for_session",
    "a": "approved_always",
    "n": "denied",
    "x": "abort",
}
PROMPT = "  [y] yes once  [s] yes for this session  [a] always  [n] no  [x] no, and stop the turn"


def _asks(agent: str | None, verb: str, rest: str) -> str:
    """The question's first line: "? Run ..." for the conversation itself, "? Agent Hopper wants
    to run ..." for a sub-agent."""
    if agent is None:
        return f"? {verb.capitalize()} {rest}"
    return f"? Agent {agent} wants to {verb} {rest}"


def request_text(request: ev.ApprovalRequest, agent: str | None = None) -> str:
    """The question; `agent` names the sub-agent asking (None: the conversation's own thread)."""
    if isinstance(request, ev.McpToolApprovalRequest):
        arguments = json.dumps(request.arguments, ensure_ascii=False)
        if len(arguments) > 200:
            arguments = arguments[:199] + "…"
        tool = f"the MCP tool {request.server}/{request.tool}"
        lines = [_asks(agent, "call", tool), f"  with {arguments}"]
        choices = PROMPT.replace("[s] yes for this session", "[s] always for this tool")
        return "\n".join([*lines, choices.replace("  [a] always", "")])
    if isinstance(request, ev.PatchApprovalRequest):
        files = ", ".join(change.path for change in request.changes) or "(no files)"
        where = f"outside the writable folders: {files}"
        lines = [_asks(agent, "edit", where) if agent else f"? Allow this edit {where}"]
        if request.reason:
            lines.append(f"  {request.reason}")
        return "\n".join([*lines, PROMPT.replace("  [a] always", "")])
    where = "outside the sandbox" if request.escalated else "in the sandbox"
    lines = [_asks(agent, "run", f"{where}: {request.command}"), f"  in {request.cwd}"]
    if request.reason:
        lines.append(f"  why: {request.reason}")
    if request.proposed_prefix:
        lines.append(
            f"  'always' allows commands starting with: {' '.join(request.proposed_prefix)}"
        )
    else:
        lines.append("  not one simple command, so no rule can cover it: any yes allows it once")
    return "\n".join([*lines, PROMPT])


def decision_for(reply: str) -> ReviewDecision | None:
    text = reply.strip().lower()
    if text in ("yes", ""):
        return None
    return CHOICES.get(text[:1]) if text else None


async def ask_user(
    host: QuestionHost, request: ev.ApprovalRequest, agent: str | None = None
) -> ReviewDecision:
    """Ask until the reply is one of the choices."""
    host.show(request_text(request, agent))
    while True:
        decision = decision_for(await host.read_answer("approve"))
        if decision is not None:
            host.show(f"  → {decision.replace('_', ' ')}")
            return decision
        host.show("  answer y, s, a, n or x")
