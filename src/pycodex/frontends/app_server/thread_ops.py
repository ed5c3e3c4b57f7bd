"""thread/* requests: start, resume, fork, list, read, name/set, archive, unarchive, compact.

Threads are the session files exec and the REPL write (`$CODEX_HOME/sessions`), so a thread
started here resumes in `pycodex resume` and the reverse. New threads record `source: "vscode"`
and the client's name as originator, as upstream's app-server does.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pycodex._version import __version__
from pycodex.config import Config, ConfigError, ConfigOverrides, resolve_config
from pycodex.frontends.app_server import listing, rpc, wire
from pycodex.frontends.app_server.history import RecordedView, read_recorded
from pycodex.frontends.app_server.loaded import LoadedThread
from pycodex.frontends.app_server.params import (
    Params,
    ThreadSettings,
    list_query,
    thread_settings,
)
from pycodex.frontends.app_server.translate import TurnTranslator
from pycodex.frontends.app_server.wire import Json, ThreadMeta, TurnRecord
from pycodex.protocol.ops import Compact
from pycodex.sessions.ids import new_thread_id

if TYPE_CHECKING:
    from pycodex.agent.rollout import RecordedThread
    from pycodex.frontends.app_server.server import AppServer, Handler

SOURCE = "vscode"


def handlers(server: AppServer) -> dict[str, Handler]:
    ops = ThreadOps(server)
    return {
        "thread/start": ops.start,
        "thread/resume": ops.resume,
        "thread/fork": ops.fork,
        "thread/list": ops.list,
        "thread/read": ops.read,
        "thread/name/set": ops.set_name,
        "thread/archive": ops.archive,
        "thread/unarchive": ops.unarchive,
        "thread/compact/start": ops.compact,
    }


class ThreadOps:
    def __init__(self, server: AppServer) -> None:
        self.server = server
        self.home = server.config.codex_home

    # --- start, resume, fork -------------------------------------------------------------------

    async def start(self, params: Params) -> Json:
        settings = thread_settings(params)
        config = self._config(settings, None)
        thread_id = new_thread_id()
        await self._servers_ready(thread_id)
        loaded = self._load(config, settings, None, None, thread_id)
        self.server.notify("thread/started", {"thread": loaded.thread_json()})
        return {"thread": loaded.thread_json(), **loaded.settings_json()}

    async def resume(self, params: Params) -> Json:
        thread_id = params.string("threadId")
        include_turns = not params.opt_bool("excludeTurns")
        loaded = self.server.threads.get(thread_id)
        if loaded is None:
            settings = thread_settings(params)
            path = self._rollout(thread_id)
            view, recorded = await asyncio.to_thread(self._read, path)
            config = self._config(settings, _existing_dir(view.meta.cwd))
            await self._servers_ready(thread_id)
            loaded = self._load(config, settings, recorded, view)
        return {"thread": loaded.thread_json(include_turns=include_turns), **loaded.settings_json()}

    async def fork(self, params: Params) -> Json:
        from pycodex.agent.rollout import fork_thread, load_thread

        source_id = params.string("threadId")
        settings = thread_settings(params)
        source = self.server.threads.get(source_id)
        if source is not None:  # its history as it is now, recorded or ephemeral
            view = RecordedView(source.meta, source.translator.turns)
            recorded = _recorded_from(source)
        else:
            view, recorded = await asyncio.to_thread(self._read, self._rollout(source_id))
        config = self._config(settings, _existing_dir(view.meta.cwd))
        thread_id = new_thread_id()
        await self._servers_ready(thread_id)
        if config.ephemeral:
            loaded = self._load(config, settings, None, None, thread_id)
            loaded.state.context.replace_history(recorded.history)
        else:
            _, path = await fork_thread(self.home, config.cwd, recorded, thread_id)
            copy = await asyncio.to_thread(load_thread, path)
            loaded = self._load(config, settings, copy, None)
        loaded.meta.forked_from_id = source_id
        loaded.meta.preview = view.meta.preview
        loaded.translator.turns[:] = [_copied(turn) for turn in view.turns]
        include_turns = not params.opt_bool("excludeTurns")
        self.server.notify("thread/started", {"thread": loaded.thread_json()})
        return {"thread": loaded.thread_json(include_turns=include_turns), **loaded.settings_json()}

    def _config(self, settings: ThreadSettings, recorded_cwd: Path | None) -> Config:
        pairs = list(self.server.cli_overrides)
        pairs += [(key, value) for key, value in (settings.config or {}).items()]
        cwd = Path(settings.cwd) if settings.cwd else recorded_cwd or self.server.config.cwd
        try:
            config = resolve_config(
                ConfigOverrides(
                    model=settings.model,
                    model_provider=settings.model_provider,
                    cwd=cwd,
                    approval_policy=settings.approval_policy,
                    sandbox_mode=settings.sandbox,
                    ephemeral=bool(settings.ephemeral),
                    base_instructions=settings.base_instructions,
                    developer_instructions=settings.developer_instructions,
                    cli_overrides=pairs,
                ),
                env=os.environ,
                codex_home=self.home,
            )
            config.model_provider.api_key(config.env)  # a missing key fails here, not mid-turn
        except ConfigError as err:
            raise rpc.invalid_request(str(err)) from None
        return config

    async def _servers_ready(self, thread_id: str) -> None:
        """The MCP servers run (started for this thread, or earlier) before it is built."""
        assert self.server.manager is not None
        await self.server.mcp.ready_for(self.server.manager, thread_id)

    def _load(
        self,
        config: Config,
        settings: ThreadSettings,
        recorded: RecordedThread | None,
        view: RecordedView | None,
        thread_id: str | None = None,
    ) -> LoadedThread:
        assert self.server.manager is not None
        try:
            managed = self.server.manager.start_thread(
                source=SOURCE, recorded=recorded, config=config, thread_id=thread_id
            )
        except ConfigError as err:
            raise rpc.invalid_request(str(err)) from None
        state = managed.state
        now = int(time.time())
        meta = view.meta if view is not None else ThreadMeta(
            id=state.thread_id, session_id=state.session_id, cwd=str(config.cwd),
            created_at=now, updated_at=now, model_provider=config.model_provider_id,
            source=SOURCE, cli_version=__version__, ephemeral=config.ephemeral,
            originator=self.server.client_name,
        )  # fmt: skip
        meta.path = str(state.rollout_path) if state.rollout_path is not None else None
        meta.cwd = str(config.cwd)
        translator = TurnTranslator(
            state.thread_id, self.server.notify, view.turns if view is not None else None
        )
        loaded = LoadedThread(
            managed, meta, translator, approvals_reviewer=settings.approvals_reviewer or "user"
        )
        self.server.load(loaded)
        for warning in managed.built.warnings:
            self.server.notify("warning", {"threadId": state.thread_id, "message": warning})
        return loaded

    def _rollout(self, thread_id: str) -> Path:
        from pycodex.sessions import SessionNotFoundError, find_session

        loaded = self.server.threads.get(thread_id)
        path = loaded.state.rollout_path if loaded is not None else None
        if path is not None and path.exists():
            return path
        try:
            path = find_session(self.home, thread_id)
        except SessionNotFoundError:
            raise _not_found(thread_id) from None
        if not path.name.endswith(f"{thread_id.lower()}.jsonl"):
            raise _not_found(thread_id)  # a prefix is not an id here
        return path

    def _read(self, path: Path) -> tuple[RecordedView, RecordedThread]:
        from pycodex.agent.rollout import RolloutLoadError, load_thread
        from pycodex.sessions.names import thread_names

        try:
            recorded = load_thread(path)
            view = read_recorded(path, thread_names(self.home).get(recorded.thread_id))
        except (RolloutLoadError, OSError) as err:
            raise rpc.invalid_request(f"cannot load thread: {err}") from None
        return view, recorded

    # --- list, read ----------------------------------------------------------------------------

    async def list(self, params: Params) -> Json:
        query = list_query(params)
        page, next_cursor = await asyncio.to_thread(listing.list_threads, self.home, query)
        data = []
        for meta in page:
            loaded = self.server.threads.get(meta.id)
            data.append(wire.thread_json(meta, loaded.status() if loaded else wire.NOT_LOADED))
        return {"data": data, "nextCursor": next_cursor, "backwardsCursor": None}

    async def read(self, params: Params) -> Json:
        thread_id = params.string("threadId")
        include_turns = bool(params.opt_bool("includeTurns"))
        loaded = self.server.threads.get(thread_id)
        if loaded is not None:
            return {"thread": loaded.thread_json(include_turns=include_turns)}
        path = await asyncio.to_thread(self._find_any, thread_id)
        view, _ = await asyncio.to_thread(self._read, path)
        turns = [wire.turn_json(turn) for turn in view.turns] if include_turns else []
        return {"thread": wire.thread_json(view.meta, wire.NOT_LOADED, turns)}

    def _find_any(self, thread_id: str) -> Path:
        """A thread's rollout, archived or not."""
        from pycodex.sessions import SessionNotFoundError
        from pycodex.sessions.archive import find_archived_session

        try:
            return self._rollout(thread_id)
        except rpc.RpcError:
            try:
                return find_archived_session(self.home, thread_id)
            except SessionNotFoundError:
                raise _not_found(thread_id) from None

    # --- name, archive, compact ----------------------------------------------------------------

    async def set_name(self, params: Params) -> Json:
        from pycodex.sessions.names import set_thread_name

        thread_id = params.string("threadId")
        name = params.string("name").strip()
        if not name:
            raise rpc.invalid_params("`name` must not be empty")
        loaded = self.server.threads.get(thread_id)
        if loaded is None:
            await asyncio.to_thread(self._find_any, thread_id)
        else:
            loaded.meta.name = name
            event = {"type": "thread_name_updated", "thread_id": thread_id, "thread_name": name}
            loaded.state.record_event(event)
        await asyncio.to_thread(set_thread_name, self.home, thread_id, name)
        self.server.notify("thread/name/updated", {"threadId": thread_id, "threadName": name})
        return {}

    async def archive(self, params: Params) -> Json:
        from pycodex.sessions.archive import archive_session

        thread_id = params.string("threadId")
        loaded = self.server.threads.get(thread_id)
        if loaded is not None:
            if loaded.busy is not None:
                raise rpc.invalid_request(f"thread {thread_id} has a running turn")
            await self.server.unload(loaded)
        path = self._rollout(thread_id)
        await asyncio.to_thread(archive_session, self.home, path)
        self.server.notify("thread/archived", {"threadId": thread_id})
        return {}

    async def unarchive(self, params: Params) -> Json:
        from pycodex.sessions import SessionNotFoundError
        from pycodex.sessions.archive import unarchive_session

        thread_id = params.string("threadId")
        try:
            path = await asyncio.to_thread(unarchive_session, self.home, thread_id)
        except SessionNotFoundError:
            raise rpc.invalid_request(f"no archived thread {thread_id}") from None
        view, _ = await asyncio.to_thread(self._read, path)
        self.server.notify("thread/unarchived", {"threadId": thread_id})
        return {"thread": wire.thread_json(view.meta, wire.NOT_LOADED)}

    async def compact(self, params: Params) -> Json:
        loaded = self.server.loaded(params.string("threadId"))
        if loaded.busy is not None:
            raise rpc.invalid_request(f"thread {loaded.thread_id} has a running turn")
        loaded.busy = "compaction"
        loaded.engine.submit(Compact())
        return {}


def _recorded_from(source: LoadedThread) -> RecordedThread:
    from pycodex.agent.rollout import RecordedThread

    state = source.state
    return RecordedThread(
        path=state.rollout_path or Path(),
        thread_id=state.thread_id,
        session_id=state.session_id,
        history=state.context.history,
        base_instructions=state.context.base_instructions,
    )


def _not_found(thread_id: str) -> rpc.RpcError:
    return rpc.invalid_request(f"no rollout found for thread id {thread_id}")


def _existing_dir(cwd: str) -> Path | None:
    path = Path(cwd) if cwd else None
    return path if path is not None and path.is_dir() else None


def _copied(turn: TurnRecord) -> TurnRecord:
    return TurnRecord(
        turn.id, turn.status, list(turn.items), turn.started_at, turn.completed_at,
        turn.duration_ms, turn.error,
    )  # fmt: skip
