"""Who a thread is within its tree: what it tells the model server and writes in its rollout.

Every thread of a tree shares the root's `session_id` (on `ThreadState`) and has its own
`thread_id`. A child also knows its parent, its depth, its nickname and role, and the parent and
root turns that last gave it work; those go into the request headers, `client_metadata`, and
`session_meta`. A root thread has the defaults.
"""

from __future__ import annotations

from typing import Any, Literal

from pycodex._records import dataclass

ThreadSource = Literal["user", "subagent", "memory_consolidation", "app"]
HistoryStart = Literal["new", "forked", "cold_resume"]
SUBAGENT_HEADER_VALUE = "collab_spawn"
SUBAGENT_KIND = "thread_spawn"
# The memory pipeline's consolidation agent: its thread source and `x-openai-subagent` value,
# and the header upstream marks its requests with.
MEMORY_CONSOLIDATION: Literal["memory_consolidation"] = "memory_consolidation"
MEMGEN_HEADER = "x-openai-memgen-request"


@dataclass
class ThreadIdentity:
    # "user" for threads a person started (cli, exec, app clients), "subagent" for children.
    thread_source: ThreadSource = "user"
    parent_thread_id: str | None = None
    depth: int = 0
    agent_nickname: str | None = None
    agent_role: str | None = None
    # The parent's turn that last gave this child work, and the root turn above it.
    parent_turn_id: str | None = None
    root_turn_id: str | None = None
    history_initialization: HistoryStart = "new"

    @property
    def is_subagent(self) -> bool:
        return self.parent_thread_id is not None

    def session_source(self, default: str) -> str | dict[str, Any]:
        """The `source` of `session_meta`: the frontend's name, or upstream's sub-agent form."""
        if not self.is_subagent:
            return default
        spawn = {
            "parent_thread_id": self.parent_thread_id,
            "depth": self.depth,
            "agent_path": None,
            "agent_nickname": self.agent_nickname,
            "agent_role": self.agent_role,
        }
        return {"subagent": {SUBAGENT_KIND: spawn}}

    @classmethod
    def from_session_meta(cls, meta: dict[str, Any]) -> ThreadIdentity:
        """What a rollout's `session_meta` says (older files: a root thread)."""
        parent = meta.get("parent_thread_id")
        source = meta.get("source")
        spawn: dict[str, Any] = {}
        if isinstance(source, dict) and isinstance(source.get("subagent"), dict):
            found = source["subagent"].get(SUBAGENT_KIND)
            spawn = found if isinstance(found, dict) else {}
        if not isinstance(parent, str):
            parent = spawn.get("parent_thread_id")
        if not isinstance(parent, str):
            return cls(history_initialization="cold_resume")
        depth = spawn.get("depth")
        nickname = meta.get("agent_nickname", spawn.get("agent_nickname"))
        role = spawn.get("agent_role")
        return cls(
            thread_source="subagent",
            parent_thread_id=parent,
            depth=depth if isinstance(depth, int) and depth > 0 else 1,
            agent_nickname=nickname if isinstance(nickname, str) else None,
            agent_role=role if isinstance(role, str) else None,
            history_initialization="cold_resume",
        )
