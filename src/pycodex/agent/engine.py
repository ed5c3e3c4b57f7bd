"""The engine: a submission queue in, an event stream out.

Frontends `submit()` ops and read `events()`. One task runs the op loop; each user turn runs in its
own task so `Interrupt` can cancel it. Input submitted while a turn runs is steered into that turn
at its next sampling boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from pycodex.agent.input import user_input_item
from pycodex.agent.state import ThreadState
from pycodex.agent.turn import run_turn
from pycodex.protocol import events as ev
from pycodex.protocol.events import EngineEvent
from pycodex.protocol.ops import Interrupt, Op, Shutdown, UserTurn

ShutdownHook = Callable[[], Awaitable[None]]


class Engine:
    def __init__(self, state: ThreadState, *, on_shutdown: ShutdownHook | None = None) -> None:
        self.state = state
        self._ops: asyncio.Queue[Op] = asyncio.Queue()
        self._events: asyncio.Queue[EngineEvent] = asyncio.Queue()
        self._turn: asyncio.Task[object] | None = None
        self._on_shutdown = on_shutdown

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
                case Shutdown():
                    await self._shutdown()
                    return

    def _user_turn(self, op: UserTurn) -> None:
        item = user_input_item(op.items)
        if self._turn is not None and not self._turn.done():
            self.state.pending_input.append(item)
            return
        self._turn = asyncio.create_task(run_turn(self.state, [item], self.emit))

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
        if self._on_shutdown is not None:
            await self._on_shutdown()
        self.emit(ev.ShutdownComplete())
