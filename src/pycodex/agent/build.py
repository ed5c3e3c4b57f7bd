"""Building one thread from a resolved `Config`: client, context, tools, state and engine.

The thread manager (`agent.threads`) builds every thread through here: the root thread of the
interactive agent and of `pycodex exec`, and sub-agents, so all run the same engine with the
same tools. Nothing here prints or reads the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pycodex._records import dataclass
from pycodex.agent.engine import Engine
from pycodex.agent.identity import ThreadIdentity
from pycodex.agent.rollout import (
    RecordedThread,
    continue_recording,
    session_meta,
    start_recording,
)
from pycodex.agent.state import ThreadState
from pycodex.client.factory import make_model_client
from pycodex.client.model_client import ModelClient
from pycodex.client.request import ModelSettings
from pycodex.config import Config
from pycodex.context.manager import ContextManager
from pycodex.protocol import events as ev
from pycodex.sessions.ids import new_thread_id
from pycodex.tools.builtin import build_default_tools
from pycodex.tools.rules import PrefixRules

if TYPE_CHECKING:
    from pathlib import Path

    from pycodex.agent.hook_points import HookSetup
    from pycodex.tools.builtin.user_input import UserInputProvider
    from pycodex.tools.namespaces import ToolNamespace

# Adds a thread's own tool namespaces (the sub-agent tools), once its state exists.
NamespaceFactory = Callable[[ThreadState], "list[ToolNamespace]"]


@dataclass
class BuiltThread:
    """A ready engine and the client it owns (close it with `aclose` when the thread ends)."""

    engine: Engine
    client: ModelClient
    configured: ev.SessionConfigured
    # Problems found while building the context (catalog, AGENTS.md, skills), for the user.
    warnings: list[str]

    @property
    def state(self) -> ThreadState:
        return self.engine.state

    async def aclose(self) -> None:
        await self.client.aclose()


def build_thread(
    config: Config,
    *,
    originator: str,
    source: str,
    user_input: UserInputProvider | None = None,
    recorded: RecordedThread | None = None,
    on_warning: Callable[[str], None] | None = None,
    identity: ThreadIdentity | None = None,
    session_id: str | None = None,
    namespaces: NamespaceFactory | None = None,
    hooks: HookSetup | None = None,
    parent_transcript: Path | None = None,
    thread_id: str | None = None,
) -> BuiltThread:
    """Wire a thread, recorded under $CODEX_HOME/sessions unless the config is ephemeral.

    With `recorded`, the thread continues that session (same ids, history, file). A new thread
    gets `thread_id`, or a fresh one; `session_id` (the tree's) and `identity` make it a
    sub-agent.

    Raises `ConfigError` when the provider cannot be used (no API key). `user_input` is the
    frontend's `UserInputProvider` for `request_user_input`; None (nobody to ask) makes that tool
    tell the model to carry on alone. `source` is the session file's `source` ("cli", "exec").
    `hooks` (with the parent's session file, for a sub-agent) gives the thread its hooks and
    `notify`.
    """
    context = ContextManager.from_config(config)
    info = context.model_info
    assert info is not None  # from_config always resolves the model
    settings = ModelSettings(
        model=config.model,
        reasoning_effort=info.reasoning_effort,
        reasoning_summary=info.reasoning_summary,
        verbosity=info.verbosity,
    )
    client = make_model_client(
        config, originator=originator, settings=settings, on_warning=on_warning
    )
    tools, services = build_default_tools(config, info)
    services.user_input = user_input
    services.prefix_rules = PrefixRules.load(config.codex_home)
    state = ThreadState(
        client=client,
        tools=tools,
        context=context,
        thread_id=thread_id or new_thread_id(),
        session_id=session_id or "",
        identity=identity or ThreadIdentity(),
        shell_environment_policy=config.shell_environment_policy,
        output_schema=config.output_schema,
        parallel_tool_calls=info.parallel_tool_calls,
        tool_output_token_limit=info.tool_output_token_limit,
        auto_compact_token_limit=info.auto_compact_token_limit,
        model_context_window=info.context_window,
        remote_compaction=config.features.get(
            "remote_compaction", config.model_provider_id == "openai"
        ),
        services=services,
    )
    if recorded is not None:
        continue_recording(state, recorded)
    _add_namespaces(state, config, namespaces)
    if recorded is None and not config.ephemeral:
        meta = session_meta(
            state,
            cwd=config.cwd,
            originator=originator,
            provider_id=config.model_provider_id,
            source=source,
        )
        if not config.memories.generate_memories:
            meta["memory_mode"] = "disabled"  # the memory pipeline never mines this session
        start_recording(state, config.codex_home, meta)

    if hooks is not None:
        state.hooks = hooks.for_thread(state, parent_transcript)

    async def shutdown() -> None:
        try:
            if state.hooks is not None:
                await state.hooks.session_end(state, engine.emit)
            await services.shutdown()
        finally:
            if state.recorder is not None:
                await state.recorder.close()

    engine = Engine(state, on_shutdown=shutdown)
    if state.hooks is not None and state.hooks.asks_permission:
        thread_hooks, emit = state.hooks, engine.emit
        engine.approvals.before_ask = lambda request: thread_hooks.permission(state, emit, request)
    return BuiltThread(engine, client, session_configured(state, config), list(context.warnings))


def wants_hooks(config: Config) -> bool:
    """Is anything of hooks to load: `notify`, the bypass flag, or hooks in config.toml or
    `$CODEX_HOME/hooks.json` while `[features] hooks` is on?"""
    if config.notify or config.bypass_hook_trust:
        return True
    features = config.features
    if not features.get("hooks", features.get("codex_hooks", True)):
        return False
    return bool(config.hooks) or (config.codex_home / "hooks.json").is_file()


def _add_namespaces(
    state: ThreadState, config: Config, namespaces: NamespaceFactory | None
) -> None:
    """Register the thread's namespaces; defer them behind tool_search where the model can
    search (a catalog model on the Responses wire) and say so in the initial context."""
    for namespace in namespaces(state) if namespaces is not None else []:
        state.tools.register_namespace(namespace)
    info = state.context.model_info
    searchable = info is not None and info.supports_search_tool
    state.tools.use_tool_search(searchable and config.model_provider.wire_api == "responses")
    state.context.tools_note = state.tools.deferred_note()


def session_configured(state: ThreadState, config: Config) -> ev.SessionConfigured:
    """The first event of a thread: what it runs with, for headers and `/status`."""
    return ev.SessionConfigured(
        thread_id=state.thread_id,
        session_id=state.session_id,
        model=state.client.settings.model,
        provider_id=config.model_provider_id,
        cwd=config.cwd,
        approval_policy=config.approval_policy.value,
        sandbox_mode=config.sandbox_mode.value,
        reasoning_effort=state.client.settings.reasoning_effort,
        reasoning_summary=state.client.settings.reasoning_summary,
        rollout_path=state.rollout_path,
    )
