"""The engine: a submission queue in, an event stream out.

Frontends `submit()` ops and read `events()`. One task runs the op loop; each user turn runs in its
own task so `Interrupt` can cancel it. Input submitted while a turn runs is steered into that turn
at its next sampling boundary; input that arrived too late for any boundary starts a follow-up turn
as soon as the turn ends, so nothing the user typed is silently dropped. Settings changes
(`SetModel`, `SetReasoningEffort`, `OverrideTurnContext`) apply from the next turn on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from pycodex._records import replace
from pycodex.agent.approvals import ApprovalBroker
from pycodex.agent.compact import compact
from pycodex.agent.input import user_input_item
from pycodex.agent.state import ThreadState
from pycodex.agent.turn import request_context, run_turn
from pycodex.protocol import events as ev
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.items import ResponseItem
from pycodex.protocol.ops import (
    KEEP,
    ApprovalDecision,
    Compact,
    Interrupt,
    Op,
    OverrideTurnContext,
    SetModel,
    SetReasoningEffort,
    Shutdown,
    UserTurn,
)
from pycodex.sessions.ids import new_random_id

SettingsChange = SetModel | SetReasoningEffort | OverrideTurnContext

ShutdownHook = Callable[[], Awaitable[None]]


class Engine:
    def __init__(self, state: ThreadState, *, on_shutdown: ShutdownHook | None = None) -> None:
        self.state = state
        self._ops: asyncio.Queue[Op] = asyncio.Queue()
        self._events: asyncio.Queue[EngineEvent] = asyncio.Queue()
        self._turn: asyncio.Task[object] | None = None
        self._on_shutdown = on_shutdown
        self._settings_changes: list[SettingsChange] = []
        self.approvals = ApprovalBroker(self.emit, lambda: self.submit(Interrupt()))
        if state.services.approvals is None:
            state.services.approvals = self.approvals

    def submit(self, op: Op) -> None:
        self._ops.put_nowait(op)

    def emit(self, event: EngineEvent) -> None:
        self._events.put_nowait(event)

    async def events(self) -> AsyncIterator[EngineEvent]:
        """Every event until (and including) `ShutdownComplete`."""
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, ev.ShutdownComplete):
                return

    async def run(self) -> None:
        """Process ops until `Shutdown`."""
        while True:
            op = await self._ops.get()
            match op:
                case UserTurn():
                    self._user_turn(op)
                case Interrupt():
                    await self._cancel_turn()
                case Compact():
                    self._compact()
                case ApprovalDecision(call_id=call_id, decision=decision):
                    if not self.approvals.resolve(call_id, decision):
                        self.emit(ev.Warning(f"no approval request {call_id!r} is waiting"))
                case SetModel() | SetReasoningEffort() | OverrideTurnContext():
                    self._settings_changes.append(op)
                    if not self._turn_running():
                        self._apply_settings()
                case Shutdown():
                    await self._shutdown()
                    return

    def _compact(self) -> None:
        """Manual compaction runs like a turn (Interrupt cancels it), never during one."""
        if self._turn_running():
            self.emit(ev.Warning("a turn is running: compact again once it has finished"))
            return
        self._turn = asyncio.create_task(self._compact_then_run_pending())

    async def _compact_then_run_pending(self) -> None:
        """Input sent while compacting is not lost: it starts a turn once compaction ends."""
        request = request_context(self.state, new_random_id())
        await compact(self.state, self.emit, "manual", request)
        pending, self.state.pending_input = self.state.pending_input, []
        await self._run_turns(pending)

    def _user_turn(self, op: UserTurn) -> None:
        item = user_input_item(op.items)
        if self._turn_running():
            self.state.pending_input.append(item)
            return
        # Settings changed before this input apply to its turn; later ones wait for the next.
        self._apply_settings()
        turn = self._run_turns([item], op.turn_id, op.output_schema, settled=True)
        self._turn = asyncio.create_task(turn)

    def _turn_running(self) -> bool:
        return self._turn is not None and not self._turn.done()

    async def _run_turns(
        self,
        items: Sequence[ResponseItem],
        turn_id: str | None = None,
        output_schema: dict[str, Any] | None = None,
        *,
        settled: bool = False,
    ) -> None:
        """One turn, then one more per batch of steering input that missed every boundary.

        `turn_id` and `output_schema` belong to the first turn only; `settled` says the settings
        were applied already when its input arrived."""
        thread_schema = self.state.output_schema
        while items:
            if not settled:
                self._apply_settings()
            settled = False
            if output_schema is not None:
                self.state.output_schema = output_schema
            try:
                await run_turn(self.state, items, self.emit, turn_id)
            except Exception as err:  # a bug must end the turn visibly, never hang a frontend
                self.emit(ev.Error(f"internal error: {type(err).__name__}: {err}"))
                self.emit(
                    ev.TurnComplete(turn_id or "", None, failed=True, usage=self.state.total_usage)
                )
                return
            finally:
                self.state.output_schema = thread_schema
            items, self.state.pending_input = self.state.pending_input, []
            turn_id, output_schema = None, None

    def _apply_settings(self) -> None:
        for change in self._settings_changes:
            settings = self.state.client.settings
            match change:
                case SetModel(model=model):
                    self.state.client.settings = replace(settings, model=model)
                case SetReasoningEffort(effort=effort):
                    self.state.client.settings = replace(settings, reasoning_effort=effort)
                case OverrideTurnContext():
                    self._override(change)
        self._settings_changes.clear()

    def _override(self, change: OverrideTurnContext) -> None:
        """Apply what the change names; the next turn's context records announce it."""
        context = self.state.context
        if change.cwd is not None:
            context.cwd = change.cwd
        if change.approval_policy is not None:
            context.approval_policy = change.approval_policy
        if change.sandbox_policy is not None:
            context.sandbox_policy = change.sandbox_policy
        settings = self.state.client.settings
        if change.model is not None:
            settings = replace(settings, model=change.model)
        if change.effort != KEEP:
            settings = replace(settings, reasoning_effort=change.effort)
        if change.summary != KEEP:
            settings = replace(settings, reasoning_summary=change.summary)
        self.state.client.settings = settings

    async def _cancel_turn(self) -> None:
        if self._turn is None or self._turn.done():
            return
        self._turn.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._turn

    async def wait_turn(self) -> None:
        if self._turn is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._turn

    async def _shutdown(self) -> None:
        await self._cancel_turn()
        try:
            if self._on_shutdown is not None:
                await self._on_shutdown()
        except Exception as err:  # frontends wait for ShutdownComplete: it must always come
            self.emit(ev.Error(str(err) or type(err).__name__))
        finally:
            self.emit(ev.ShutdownComplete())
