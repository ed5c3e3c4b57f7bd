"""One-line descriptions of sub-agent tool calls, shared by the exec human output and the REPL."""

from __future__ import annotations

from pycodex.protocol import events as ev
from pycodex.protocol.agents import AgentStatus

_PREVIEW = 120


def collab_lines(event: ev.CollabToolCallEnd) -> list[str]:
    """What happened, one line per agent reported on (a finished agent's message included)."""
    names = dict(event.receiver_nicknames)
    prompt = _preview(event.prompt)
    match event.tool:
        case "spawn_agent":
            if not event.success:
                return ["spawn_agent failed: agent thread limit reached or bad request"]
            return [
                f"spawned {_agent(agent, names)}" + (f": {prompt}" if prompt else "")
                for agent, _status in event.agents_states
            ]
        case "send_input":
            targets = ", ".join(_agent(agent, names) for agent in event.receiver_thread_ids)
            return [
                f"sent to {targets}: {prompt}" if event.success else f"send to {targets} failed"
            ]
        case "close_agent":
            return [
                f"closed {_agent(agent, names)} (was {_status_text(status)})"
                for agent, status in event.agents_states
            ]
        case "wait":
            if not event.agents_states:
                return ["waited for agents: none finished in time"]
            return [
                f"{_agent(agent, names)}: {_status_text(status)}"
                for agent, status in event.agents_states
            ]


def _agent(agent_id: str, names: dict[str, str | None]) -> str:
    name = names.get(agent_id)
    return f"agent {name} ({agent_id})" if name else f"agent {agent_id}"


def _status_text(status: AgentStatus) -> str:
    text = status.state.replace("_", " ")
    message = _preview(status.message)
    return f"{text}: {message}" if message else text


def _preview(text: str | None) -> str:
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= _PREVIEW else first[: _PREVIEW - 1] + "…"
