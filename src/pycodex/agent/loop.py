"""`AgentLoop`: the library face of the engine for Python programmers.

agent = AgentLoop(model, tools, context_manager)
result = await agent.run_turn("Fix the failing test.")
print(result.output_text)
"""

from __future__ import annotations

from collections.abc import Callable

from pycodex.agent.compact import compact
from pycodex.agent.input import user_input_item
from pycodex.agent.state import ThreadState
from pycodex.agent.turn import TurnResult, request_context, run_turn
from pycodex.client.model_client import ModelClient
from pycodex.context.manager import ContextManager
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.ops import TextInput, UserTurn
from pycodex.sessions.ids import new_random_id
from pycodex.tools.registry import ToolRegistry


class AgentLoop:
    """Runs turns of one thread directly, without the submission queue."""

    def __init__(
        self,
        model: ModelClient,
        tools: ToolRegistry | None = None,
        context_manager: ContextManager | None = None,
        *,
        on_event: Callable[[EngineEvent], None] | None = None,
    ) -> None:
        self.state = ThreadState(
            client=model,
            tools=tools or ToolRegistry(),
            context=context_manager or ContextManager(),
        )
        self._on_event = on_event

    @property
    def thread_id(self) -> str:
        return self.state.thread_id

    async def run_turn(self, prompt: str | UserTurn) -> TurnResult:
        turn = prompt if isinstance(prompt, UserTurn) else UserTurn((TextInput(prompt),))
        return await run_turn(self.state, [user_input_item(turn.items)], self._emit)

    async def compact(self) -> bool:
        """Compact the history now (as `/compact` does); False when it failed."""
        request = request_context(self.state, new_random_id())
        return await compact(self.state, self._emit, "manual", request)

    def _emit(self, event: EngineEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    async def aclose(self) -> None:
        await self.state.client.aclose()
