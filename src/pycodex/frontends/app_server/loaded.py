"""A thread this app-server process runs: its engine, the task pumping its events, its turns.

The pump turns every engine event into notifications (through the `TurnTranslator`) and hands
approval requests to the server, which asks the client. `busy` is the id of the turn a client
started (or of the manual compaction it asked for) until that turn ends: while it is set, a new
`turn/start` is refused rather than silently merged into the running turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pycodex._records import dataclass, field
from pycodex.frontends.app_server import wire
from pycodex.frontends.app_server.translate import TurnTranslator
from pycodex.frontends.app_server.wire import Json, ThreadMeta
from pycodex.protocol import events as ev
from pycodex.protocol.ops import Shutdown
from pycodex.protocol.policies import AskForApproval

if TYPE_CHECKING:
    from pycodex.agent.engine import Engine
    from pycodex.agent.state import ThreadState
    from pycodex.agent.threads import ManagedThread

ApprovalRequest = ev.ApprovalRequest
AskApproval = Callable[["LoadedThread", ApprovalRequest], None]
TurnEnded = Callable[["LoadedThread"], None]

_ENDS = (ev.TurnComplete, ev.TurnAborted, ev.CompactionCompleted, ev.CompactionFailed)


@dataclass
class LoadedThread:
    managed: ManagedThread
    meta: ThreadMeta
    translator: TurnTranslator
    approvals_reviewer: str = "user"
    busy: str | None = None
    runner: asyncio.Task[None] | None = None
    pump: asyncio.Task[None] | None = None
    closing: bool = False
    pending_requests: list[int] = field(default_factory=list)

    @property
    def thread_id(self) -> str:
        return self.managed.thread_id

    @property
    def engine(self) -> Engine:
        return self.managed.engine

    @property
    def state(self) -> ThreadState:
        return self.managed.state

    def start(self, ask: AskApproval, ended: TurnEnded) -> None:
        self.runner = asyncio.create_task(self.engine.run())
        self.pump = asyncio.create_task(self._pump(ask, ended))

    async def _pump(self, ask: AskApproval, ended: TurnEnded) -> None:
        async for event in self.engine.events():
            try:
                self.translator.process(event)
            except Exception as err:  # a bug: say so, and keep the thread's stream flowing
                log(f"cannot report {type(event).__name__}: {type(err).__name__}: {err}")
            if isinstance(event, ev.TurnStarted) and self.busy is None:
                # A turn the engine started on its own: input steered too late for the last one.
                self.busy = event.turn_id
            if isinstance(event, ApprovalRequest):
                ask(self, event)
            if isinstance(event, _ENDS) and self.translator.active is None:
                self.busy = None
                ended(self)

    async def stop(self) -> None:
        """Shut the engine down (a running turn is aborted, the session file flushed)."""
        self.closing = True
        self.engine.submit(Shutdown())
        for task in (self.runner, self.pump):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- what responses say about it -----------------------------------------------------------

    def status(self) -> Json:
        return wire.active() if self.translator.active is not None else wire.IDLE

    def thread_json(self, *, include_turns: bool = False) -> Json:
        settings = self.state.client.settings
        self.meta.model = settings.model
        self.meta.reasoning_effort = settings.reasoning_effort
        turns = [wire.turn_json(turn) for turn in self.translator.turns] if include_turns else []
        return wire.thread_json(self.meta, self.status(), turns)

    def settings_json(self) -> Json:
        """The members thread/start, resume and fork answer with besides `thread`."""
        state = self.state
        context = state.context
        return {
            "model": state.client.settings.model,
            "modelProvider": self.meta.model_provider,
            "serviceTier": None,
            "cwd": str(context.cwd),
            "instructionSources": [str(found.path) for found in context.agents_md.files],
            "approvalPolicy": approval_policy_json(context.approval_policy),
            "approvalsReviewer": self.approvals_reviewer,
            "sandbox": wire.sandbox_json(context.sandbox_policy),
            "reasoningEffort": state.client.settings.reasoning_effort,
            "disabledPluginIds": [],
        }


def log(message: str) -> None:
    sys.stderr.write(f"pycodex app-server: {message}\n")


def approval_policy_json(policy: AskForApproval) -> str:
    # The protocol has no `on-failure`; asking on request is its closest value.
    return "on-request" if policy is AskForApproval.ON_FAILURE else policy.value
