"""turn/start, turn/steer, turn/interrupt, and model/list.

A turn's id is chosen here and given to the engine with the input, so the response can name the
turn before it starts; its notifications follow on the thread's event pump. Per-turn settings
(model, effort, summary, cwd, approval policy, sandbox policy) are submitted as one
`OverrideTurnContext` before the input and stay for later turns, as upstream; `outputSchema`
holds for this turn only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycodex.frontends.app_server import rpc, wire
from pycodex.frontends.app_server.loaded import LoadedThread
from pycodex.frontends.app_server.params import (
    Params,
    TurnSettings,
    sandbox_policy,
    turn_settings,
    user_input,
)
from pycodex.frontends.app_server.wire import Json, TurnRecord
from pycodex.protocol.ops import KEEP, OverrideTurnContext, UserTurn
from pycodex.sessions.ids import new_thread_id

if TYPE_CHECKING:
    from pycodex.frontends.app_server.server import AppServer, Handler


def handlers(server: AppServer) -> dict[str, Handler]:
    ops = TurnOps(server)
    return {
        "turn/start": ops.start,
        "turn/steer": ops.steer,
        "turn/interrupt": ops.interrupt,
        "model/list": ops.model_list,
    }


class TurnOps:
    def __init__(self, server: AppServer) -> None:
        self.server = server

    def _loaded(self, params: Params) -> LoadedThread:
        return self.server.loaded(params.string("threadId"))

    async def start(self, params: Params) -> Json:
        loaded = self._loaded(params)
        items, echoed = user_input(params)
        settings = turn_settings(params)
        if loaded.busy is not None:
            raise rpc.invalid_request(
                f"thread {loaded.thread_id} is running turn {loaded.busy}: "
                "steer it with turn/steer or wait for turn/completed"
            )
        override = _override(loaded, settings)
        if override is not None:
            loaded.engine.submit(override)
        if settings.approvals_reviewer is not None:
            loaded.approvals_reviewer = settings.approvals_reviewer
        turn_id = new_thread_id()
        loaded.busy = turn_id
        loaded.translator.expect_turn(turn_id, echoed)
        if not loaded.meta.preview:
            loaded.meta.preview = " ".join(e["text"] for e in echoed if e["type"] == "text")
        loaded.engine.submit(UserTurn(items, turn_id, settings.output_schema))
        return {"turn": wire.turn_json(TurnRecord(turn_id), items="none")}

    async def steer(self, params: Params) -> Json:
        loaded = self._loaded(params)
        expected = params.string("expectedTurnId")
        items, echoed = user_input(params)
        active = loaded.translator.active
        if active is None or active.id != expected or loaded.translator.synthetic:
            found = active.id if active is not None else "no active turn"
            raise rpc.invalid_request(f"expected active turn id {expected} but found {found}")
        loaded.engine.submit(UserTurn(items))
        loaded.translator.steered(echoed)
        return {"turnId": active.id}

    async def interrupt(self, params: Params) -> Json:
        loaded = self._loaded(params)
        turn_id = params.string("turnId")
        if loaded.busy is None or (loaded.busy != turn_id and not loaded.translator.synthetic):
            found = loaded.busy or "no active turn"
            raise rpc.invalid_request(f"expected active turn id {turn_id} but found {found}")
        assert self.server.manager is not None
        self.server.manager.interrupt_tree(loaded.thread_id)
        if loaded.translator.synthetic:  # a manual compaction ends without an event of its own
            loaded.translator.end_synthetic("interrupted")
            loaded.busy = None
        return {}

    async def model_list(self, params: Params) -> Json:
        from pycodex.frontends.app_server.models import catalog_models

        include_hidden = bool(params.opt_bool("includeHidden"))
        return {"data": catalog_models(self.server.config, include_hidden), "nextCursor": None}


def _override(loaded: LoadedThread, settings: TurnSettings) -> OverrideTurnContext | None:
    context = loaded.state.context
    cwd = settings.cwd
    policy = None
    if settings.sandbox_policy is not None:
        config = loaded.managed.config
        roots = (*config.additional_writable_roots, *config.sandbox_workspace_write.writable_roots)
        policy = sandbox_policy(settings.sandbox_policy, cwd or context.cwd, roots)
    changes: dict[str, Any] = {
        "cwd": cwd,
        "approval_policy": settings.approval_policy,
        "sandbox_policy": policy,
        "model": settings.model,
        "effort": settings.effort if settings.effort is not None else KEEP,
        "summary": settings.summary if settings.summary is not None else KEEP,
    }
    if all(value is None or value is KEEP for value in changes.values()):
        return None
    return OverrideTurnContext(**changes)
