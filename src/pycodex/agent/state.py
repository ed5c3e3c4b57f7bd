"""The state one thread keeps across turns, and the recorder interface it writes through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pycodex._records import dataclass, field
from pycodex.agent.identity import ThreadIdentity
from pycodex.client.model_client import ModelClient
from pycodex.context.manager import ContextManager
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.items import ResponseItem
from pycodex.protocol.policies import ShellEnvironmentPolicy
from pycodex.protocol.usage import TokenUsage
from pycodex.sessions.ids import new_random_id
from pycodex.tools.registry import ToolRegistry
from pycodex.tools.services import ToolServices

if TYPE_CHECKING:
    from pycodex.agent.hook_points import ThreadHooks

Emit = Callable[[EngineEvent], None]


class Recorder(Protocol):
    """Where the thread's durable record goes (a rollout file); see `pycodex.sessions`."""

    def record_items(self, items: Sequence[dict[str, Any]]) -> None: ...

    def record_event(self, payload: dict[str, Any]) -> None: ...

    def record_turn_context(self, payload: dict[str, Any]) -> None: ...

    def record_compacted(
        self, message: str, replacement_history: list[dict[str, Any]] | None
    ) -> None: ...

    async def flush(self) -> None: ...

    async def written(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class ThreadState:
    """Everything a turn reads and updates; owned by one engine or AgentLoop."""

    client: ModelClient
    tools: ToolRegistry
    context: ContextManager
    thread_id: str = field(default_factory=new_random_id)
    # Shared by every thread of a tree (the root's thread id); see `agent.identity`.
    session_id: str = ""
    identity: ThreadIdentity = field(default_factory=ThreadIdentity)
    shell_environment_policy: ShellEnvironmentPolicy = field(default_factory=ShellEnvironmentPolicy)
    output_schema: dict[str, Any] | None = None
    parallel_tool_calls: bool = True
    # Budget for each tool output kept in history (head and tail survive); None keeps it whole.
    tool_output_token_limit: int | None = None
    recorder: Recorder | None = None
    services: ToolServices = field(default_factory=ToolServices)
    total_usage: TokenUsage = field(default_factory=TokenUsage)
    # How full the context is: the last response's total tokens (reset by compaction).
    context_tokens: int = 0
    # The model's context window (catalog or config), reported with token counts for UIs.
    model_context_window: int | None = None
    # Compact automatically once `context_tokens` reaches this; None or 0 turns it off.
    auto_compact_token_limit: int | None = None
    remote_compaction: bool = False
    last_response_id: str | None = None
    # User input that arrived while a turn ran; taken in at the next sampling boundary.
    pending_input: list[ResponseItem] = field(default_factory=list)
    # Messages about sub-agents that reached a final status (`<subagent_notification>`); recorded
    # after the pending tool outputs, or before the next turn's input when no turn runs.
    pending_notifications: list[ResponseItem] = field(default_factory=list)
    turns_started: int = 0
    rollout_path: Path | None = None
    # Hooks and `notify` (agent.hook_points), when configured; None costs nothing.
    hooks: ThreadHooks | None = None

    def __post_init__(self) -> None:
        if not self.session_id:
            self.session_id = self.thread_id

    def record(self, items: Sequence[ResponseItem]) -> None:
        self.context.record(items)
        if self.recorder is not None and items:
            self.recorder.record_items([item.to_wire() for item in items])

    def record_event(self, payload: dict[str, Any]) -> None:
        if self.recorder is not None:
            self.recorder.record_event(payload)
