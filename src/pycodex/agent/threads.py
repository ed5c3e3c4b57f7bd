"""The thread manager: every live thread of one process, as a tree.

A thread is an `Engine` with its own `ThreadState` (history, rollout, tools, client). The manager
creates threads with a source (a user frontend, a sub-agent, later the app-server and the memory
pipeline), looks them up, interrupts and shuts them down, and keeps the tree: parent -> child
links, depth, how many children are open. Every thread of a tree shares the root's `session_id`
and keeps its own `thread_id`.

A root thread belongs to its frontend, which runs the engine and reads its events. A child's
engine and event stream are run here: the stream drives the child's `AgentStatus` (running,
completed with its last message, errored, interrupted), which wakes `wait_agent` and puts a
`<subagent_notification>` into the parent's history. Listeners (the REPL following an agent)
may watch any child's events. A child's approval requests go to the router its tree's frontend
registered (`route_child_approvals`, see `child_approvals`), or are denied when there is none.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycodex._records import dataclass, field
from pycodex.agent.build import BuiltThread, build_thread, wants_hooks
from pycodex.agent.child_approvals import ApprovalRoutes, ChildApprovalRouter, PendingApprovals
from pycodex.agent.identity import ThreadIdentity
from pycodex.agent.thread_control import (
    ThreadControl,
    child_config,
    forked_history,
    notification,
    pick_nickname,
)
from pycodex.protocol import events as ev
from pycodex.protocol.agents import (
    INTERRUPTED,
    NOT_FOUND,
    PENDING_INIT,
    RUNNING,
    SHUTDOWN,
    AgentStatus,
)
from pycodex.protocol.ops import ApprovalDecision, Interrupt, ReviewDecision, Shutdown, UserTurn

if TYPE_CHECKING:
    from pathlib import Path

    from pycodex.agent.engine import Engine
    from pycodex.agent.hook_points import HookSetup
    from pycodex.agent.rollout import RecordedThread
    from pycodex.agent.state import ThreadState
    from pycodex.config import Config
    from pycodex.mcp.manager import McpConnectionManager, McpStartup, McpStatusListener
    from pycodex.tools.collab import SpawnRequest
    from pycodex.tools.namespaces import ToolNamespace

EventListener = Callable[[ev.EngineEvent], None]
MULTI_AGENT_FEATURE = "multi_agent"


def _parent_transcript(child: ManagedThread) -> Path | None:
    hooks = child.state.hooks
    return hooks.parent_transcript if hooks is not None else None


class ThreadLimitError(Exception):
    """A spawn over `[agents] max_threads` or `max_depth`."""


@dataclass
class ManagedThread:
    """One thread the manager holds; `status` is meaningful for children."""

    built: BuiltThread
    config: Config
    source: str
    status: AgentStatus = PENDING_INIT
    closed: bool = False
    runner: asyncio.Task[None] | None = None
    pump: asyncio.Task[None] | None = None
    last_error: str | None = None
    # Set when send_input interrupts: the abort it causes is not a final status.
    expect_abort: bool = False
    listeners: list[EventListener] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # The child's running turn, and the approval requests it waits on (routed to a frontend).
    turn_id: str | None = None
    approvals: PendingApprovals = field(default_factory=PendingApprovals)

    @property
    def engine(self) -> Engine:
        return self.built.engine

    @property
    def state(self) -> ThreadState:
        return self.built.engine.state

    @property
    def thread_id(self) -> str:
        return self.state.thread_id

    @property
    def identity(self) -> ThreadIdentity:
        return self.state.identity

    @property
    def parent_id(self) -> str | None:
        return self.identity.parent_thread_id

    def set_status(self, status: AgentStatus) -> None:
        self.status = status
        self.changed.set()
        self.changed = asyncio.Event()


class ThreadManager:
    """Creates, finds, interrupts and shuts down the threads of one process."""

    def __init__(
        self,
        config: Config,
        *,
        originator: str,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.originator = originator
        self._on_warning = on_warning
        self._threads: dict[str, ManagedThread] = {}
        self._hook_setup: HookSetup | None = None
        self._hooks_loaded = False
        # The MCP servers of this process, shared by every thread (`start_mcp`).
        self._mcp: McpConnectionManager | None = None
        # Who answers the approval requests of sub-agents, by root thread id.
        self._routes = ApprovalRoutes()

    async def start_mcp(self, on_status: McpStatusListener | None = None) -> McpStartup | None:
        """Start the configured MCP servers, all at once, before the first thread: their tools
        are offered to every thread built afterwards. None when no server is configured (then
        nothing MCP-related is imported). Raises `ConfigError` for a bad `[mcp_servers]` table;
        a server that fails is reported in the result (`fatal()` when it was required).
        `on_status` hears each server's progress (the app-server reports it to its client)."""
        if self._mcp is not None or not self.config.mcp_servers:
            return None
        from pycodex.mcp.config import enabled_servers

        servers = enabled_servers(self.config.mcp_servers)
        if not servers:
            return None
        from pycodex.mcp.manager import McpConnectionManager

        self._mcp = McpConnectionManager(servers, cwd=self.config.cwd, env=self.config.env)
        return await self._mcp.start(on_status)

    async def stop_mcp(self) -> None:
        """Stop the MCP servers (threads built later get none); `start_mcp` may run again."""
        mcp, self._mcp = self._mcp, None
        if mcp is not None:
            await mcp.aclose()

    # --- lookup -------------------------------------------------------------------------------

    def get(self, thread_id: str) -> ManagedThread | None:
        return self._threads.get(thread_id)

    def threads(self) -> list[ManagedThread]:
        return list(self._threads.values())

    def children(self, thread_id: str) -> list[ManagedThread]:
        return [t for t in self._threads.values() if t.parent_id == thread_id]

    def descendants(self, thread_id: str) -> list[ManagedThread]:
        """Every thread below `thread_id`, deepest first (the order to shut them down in)."""
        found: list[ManagedThread] = []
        for child in self.children(thread_id):
            found += [*self.descendants(child.thread_id), child]
        return found

    def open_children(self, session_id: str) -> int:
        return sum(
            1
            for t in self._threads.values()
            if t.parent_id is not None and not t.closed and t.state.session_id == session_id
        )

    # --- creating threads ---------------------------------------------------------------------

    def start_thread(
        self,
        *,
        source: str,
        recorded: RecordedThread | None = None,
        user_input: Any = None,
        config: Config | None = None,
        identity: ThreadIdentity | None = None,
        thread_id: str | None = None,
    ) -> ManagedThread:
        """A root thread for a frontend (or an internal worker such as the memory
        consolidation agent, with its `identity`), which runs its engine and reads its events.
        A new thread gets `thread_id` when the frontend chose it already (the app-server names
        it in notifications sent while the MCP servers start)."""
        chosen = config or self.config
        built = build_thread(
            chosen,
            originator=self.originator,
            source=source,
            user_input=user_input,
            recorded=recorded,
            on_warning=self._on_warning,
            identity=identity,
            thread_id=thread_id,
            namespaces=self._namespaces_for(chosen),
            hooks=self._hooks(),
        )
        if self._hook_setup is not None:
            built.warnings += self._hook_setup.take_warnings()
        thread = ManagedThread(built, chosen, source, status=RUNNING)
        self._threads[thread.thread_id] = thread
        return thread

    async def spawn(self, parent_id: str, request: SpawnRequest, turn_id: str) -> ManagedThread:
        """Start a child of `parent_id` on `request.message`; raises `ThreadLimitError`."""
        parent = self._threads[parent_id]
        limits = self.config.agents
        depth = parent.identity.depth + 1
        if depth > limits.max_depth or self.open_children(parent.state.session_id) >= (
            limits.max_threads
        ):
            raise ThreadLimitError
        config, role = child_config(parent, request, self.config.agents.roles)
        taken = {t.identity.agent_nickname for t in self._threads.values()}
        identity = ThreadIdentity(
            thread_source="subagent",
            parent_thread_id=parent.thread_id,
            depth=depth,
            agent_nickname=pick_nickname(taken, role),
            agent_role=request.agent_type,
            parent_turn_id=turn_id,
            root_turn_id=parent.identity.root_turn_id if parent.identity.is_subagent else turn_id,
            history_initialization="forked" if request.fork_context else "new",
        )
        built = build_thread(
            config,
            originator=self.originator,
            source="subagent",
            on_warning=self._on_warning,
            identity=identity,
            session_id=parent.state.session_id,
            namespaces=self._namespaces_for(config),
            hooks=self._hooks(),
            parent_transcript=parent.state.rollout_path,
        )
        if request.fork_context:
            built.state.context.replace_history(forked_history(parent.state, built.state))
        _share_session_approvals(parent, built)
        child = ManagedThread(built, config, "subagent")
        self._threads[child.thread_id] = child
        self._run_child(child)
        if request.message:
            child.engine.submit(UserTurn.text(request.message))
        return child

    def _hooks(self) -> HookSetup | None:
        """Hooks and `notify`, found once per process; when neither is configured nothing of
        them is even imported."""
        if not self._hooks_loaded:
            self._hooks_loaded = True
            if wants_hooks(self.config):
                from pycodex.agent.hook_points import HookSetup

                self._hook_setup = HookSetup.load(self.config, self.originator)
        return self._hook_setup

    def _namespaces_for(self, config: Config) -> Callable[[ThreadState], list[ToolNamespace]]:
        """The thread's namespaces: the sub-agent tools, for threads that may still spawn (depth
        below max_depth; a resumed sub-agent keeps the depth its session file records), then
        one per running MCP server (every thread shares the process's servers)."""

        def namespaces(state: ThreadState) -> list[ToolNamespace]:
            found = self._multi_agent_namespaces(config, state)
            if self._mcp is not None:
                state.services.mcp = self._mcp
                found += self._mcp.namespaces()
            return found

        return namespaces

    def _multi_agent_namespaces(self, config: Config, state: ThreadState) -> list[ToolNamespace]:
        if not config.features.get(MULTI_AGENT_FEATURE, True):
            return []
        if state.identity.depth >= config.agents.max_depth:
            return []
        model = state.context.model_info
        if model is not None and model.minimal_tools:
            return []  # a small model gets only the tools it calls reliably (docs/local.md)
        from pycodex.tools.collab import multi_agent_namespace

        state.services.agent_control = ThreadControl(self, state)
        roles = {name: role.description for name, role in config.agents.roles.items()}
        return [multi_agent_namespace(roles)]

    def _run_child(self, child: ManagedThread) -> None:
        child.runner = asyncio.create_task(child.engine.run())
        child.pump = asyncio.create_task(self._pump(child))

    async def _pump(self, child: ManagedThread) -> None:
        async for event in child.engine.events():
            for listener in list(child.listeners):
                listener(event)
            self._observe(child, event)

    def _observe(self, child: ManagedThread, event: ev.EngineEvent) -> None:
        match event:
            case ev.TurnStarted(turn_id=turn_id):
                child.last_error, child.turn_id = None, turn_id
                child.set_status(RUNNING)
            case ev.Error(message=message):
                child.last_error = message
            case ev.TurnComplete(failed=failed, last_agent_message=message):
                self._routes.withdraw(child.approvals)
                if failed:
                    self._finish(child, AgentStatus("errored", child.last_error or "turn failed"))
                else:
                    self._finish(child, AgentStatus("completed", message))
            case ev.TurnAborted():
                self._routes.withdraw(child.approvals)
                if child.expect_abort:
                    child.expect_abort = False
                elif not child.closed:
                    self._finish(child, INTERRUPTED)
            case ev.ExecApprovalRequest() | ev.PatchApprovalRequest() | ev.McpToolApprovalRequest():
                self._route_approval(child, event)
            case _:
                pass

    def _finish(self, child: ManagedThread, status: AgentStatus) -> None:
        child.set_status(status)
        parent = self._threads.get(child.parent_id or "")
        if parent is not None and not parent.closed:
            parent.state.pending_notifications.append(notification(child.thread_id, status))

    # --- approvals of children -----------------------------------------------------------------

    def route_child_approvals(self, root_id: str, router: ChildApprovalRouter | None) -> None:
        """Send the approval requests of every thread below `root_id` to `router` (None: deny
        them again, the default). A frontend registers one per root it shows to a user."""
        self._routes.register(root_id, router)

    def decide_child_approval(self, thread_id: str, call_id: str, decision: ReviewDecision) -> bool:
        """Answer a routed request; False (and nothing happens) when the child no longer waits
        on it: closed, interrupted, or answered already."""
        child = self._threads.get(thread_id)
        if child is None or child.closed or child.approvals.take(call_id) is None:
            return False
        child.engine.submit(ApprovalDecision(call_id, decision))
        return True

    def _route_approval(self, child: ManagedThread, request: ev.ApprovalRequest) -> None:
        root = child
        while root.parent_id is not None and root.parent_id in self._threads:
            root = self._threads[root.parent_id]
        if not self._routes.ask(root.thread_id, child, request):
            # Nobody can answer for this sub-agent: denied, and the child's tool says so.
            child.engine.submit(ApprovalDecision(request.call_id, "denied"))

    # --- talking to children ------------------------------------------------------------------

    def send_input(self, target: str, message: str, interrupt: bool) -> AgentStatus | None:
        """Queue a new turn for an open child; its status before, or None when not found."""
        child = self._threads.get(target)
        if child is None or child.closed or child.parent_id is None:
            return None
        before = child.status
        if interrupt and child.status.state == "running":
            child.expect_abort = True
            child.engine.submit(Interrupt())
        child.set_status(RUNNING)
        child.engine.submit(UserTurn.text(message))
        return before

    async def wait(self, targets: list[str], timeout_s: float) -> dict[str, AgentStatus] | None:
        """Statuses of every final target once at least one is final; None on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            final = {target: self._wait_status(target) for target in targets}
            final = {target: status for target, status in final.items() if status.final}
            if final:
                return final
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            tasks = [asyncio.ensure_future(self._threads[t].changed.wait()) for t in targets]
            try:
                await asyncio.wait(tasks, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()

    def _wait_status(self, target: str) -> AgentStatus:
        thread = self._threads.get(target)
        if thread is None or thread.closed or thread.parent_id is None:
            return NOT_FOUND
        return thread.status

    # --- interrupting and closing -------------------------------------------------------------

    def interrupt_tree(self, thread_id: str) -> None:
        """Interrupt `thread_id` and every open thread below it (Ctrl-C in a frontend)."""
        for thread in [*self.descendants(thread_id), self._threads.get(thread_id)]:
            if thread is not None and not thread.closed:
                thread.engine.submit(Interrupt())

    async def close(self, target: str) -> AgentStatus:
        """Shut a child and its descendants down; its status before, or `not_found`."""
        child = self._threads.get(target)
        if child is None or child.closed or child.parent_id is None:
            return NOT_FOUND
        previous = child.status
        for descendant in self.descendants(target):
            if not descendant.closed:
                await self._stop(descendant)
        await self._stop(child)
        self._finish(child, SHUTDOWN)
        return previous

    async def resume(self, target: str) -> AgentStatus:
        """Reopen a closed child with its history (it waits for input); `not_found` when the id
        names no closed child of this process."""
        child = self._threads.get(target)
        if child is None or child.parent_id is None:
            return NOT_FOUND
        if not child.closed:
            return child.status
        if self.open_children(child.state.session_id) >= self.config.agents.max_threads:
            raise ThreadLimitError
        from pycodex.agent.thread_control import recorded_from_state

        old = child.state
        recorded = recorded_from_state(old)
        built = build_thread(
            child.config,
            originator=self.originator,
            source="subagent",
            on_warning=self._on_warning,
            recorded=recorded,
            identity=old.identity,
            session_id=old.session_id,
            namespaces=self._namespaces_for(child.config),
            hooks=self._hooks(),
            parent_transcript=_parent_transcript(child),
        )
        if recorded is None:  # an ephemeral child: its history lives only in memory
            built.state.thread_id = old.thread_id
            built.state.context.replace_history(old.context.history)
        parent = self._threads.get(child.parent_id)
        if parent is not None:
            _share_session_approvals(parent, built)
        reopened = ManagedThread(built, child.config, "subagent")
        self._threads[target] = reopened
        self._run_child(reopened)
        return reopened.status

    async def _stop(self, thread: ManagedThread) -> None:
        thread.closed = True
        self._routes.withdraw(thread.approvals)
        thread.engine.submit(Shutdown())
        for task in (thread.runner, thread.pump):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await thread.built.aclose()

    async def release(self, root_id: str) -> None:
        """A frontend is done with a root thread it shut down: stop its tree, close its client."""
        for thread in self.descendants(root_id):
            if not thread.closed:
                await self._stop(thread)
        root = self._threads.get(root_id)
        if root is not None and not root.closed:
            root.closed = True
            await root.built.aclose()
        self._routes.register(root_id, None)

    async def shutdown(self) -> None:
        """Stop every child (deepest first) and close every client; roots were shut down by
        their frontends (`Shutdown`), their clients are closed here."""
        for thread in reversed(list(self._threads.values())):
            if thread.parent_id is not None and not thread.closed:
                await self._stop(thread)
        for thread in self._threads.values():
            if thread.parent_id is None and not thread.closed:
                thread.closed = True
                await thread.built.aclose()
        await self.stop_mcp()


def _share_session_approvals(parent: ManagedThread, child: BuiltThread) -> None:
    """ "Allow for this session" is the tree's: a child shares its parent's prefix rules, so a
    prefix the user allowed for the session in one thread is allowed in all of them."""
    rules = parent.state.services.prefix_rules
    if rules is not None:
        child.engine.state.services.prefix_rules = rules
