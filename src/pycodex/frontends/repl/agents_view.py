"""`/agents`: the sub-agents of the current conversation, and following one of them.

`/agents` lists every agent of the tree (nickname, id, depth, status, last message);
`/agents <nickname|id>` shows that agent's messages and tool calls as they happen, each block
prefixed with its name; `/agents off` stops following.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pycodex.frontends.repl.markup import Painter
from pycodex.frontends.repl.render import TranscriptRenderer
from pycodex.protocol import events as ev

if TYPE_CHECKING:
    from pycodex.agent.threads import ManagedThread, ThreadManager
    from pycodex.frontends.repl.app import ReplApp


def agent_rows(manager: ThreadManager, root_id: str) -> list[str]:
    agents = manager.descendants(root_id)
    if not agents:
        return ["No sub-agents in this conversation."]
    rows = []
    for agent in sorted(agents, key=lambda a: (a.identity.depth, a.thread_id)):
        name = agent.identity.agent_nickname or "-"
        state = "closed" if agent.closed else agent.status.state.replace("_", " ")
        message = (agent.status.message or "").strip().splitlines()
        tail = f": {message[0][:80]}" if message else ""
        indent = "  " * (agent.identity.depth - 1)
        rows.append(f"{indent}{name} ({agent.thread_id}) {state}{tail}")
    return rows


def find_agent(manager: ThreadManager, root_id: str, key: str) -> ManagedThread | None:
    for agent in manager.descendants(root_id):
        if key in (agent.thread_id, agent.identity.agent_nickname) or (
            len(key) >= 8 and agent.thread_id.startswith(key)
        ):
            return agent
    return None


class AgentFollower:
    """Shows one agent's events in the REPL's scrollback, prefixed with its name."""

    def __init__(self, app: ReplApp, agent: ManagedThread) -> None:
        self._app = app
        self._agent = agent
        self._name = agent.identity.agent_nickname or agent.thread_id
        self._renderer = TranscriptRenderer(Painter(app.width(), app.colour))
        agent.listeners.append(self)

    def __call__(self, event: ev.EngineEvent) -> None:
        if isinstance(event, ev.TokenCount | ev.TurnComplete):
            self._renderer.process(event)
            return  # the usage line of a sub-agent would read as the conversation's
        self._renderer.painter = Painter(self._app.width(), self._app.colour)
        for block in self._renderer.process(event):
            if block:
                self._app.show(f"[{self._name}] {block}")

    def stop(self) -> None:
        if self in self._agent.listeners:
            self._agent.listeners.remove(self)
