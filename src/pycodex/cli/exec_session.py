"""One `pycodex exec` run: start the root thread through the thread manager (agent/threads.py),
drive one turn, print its events."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pycodex._records import dataclass
from pycodex.agent.build import session_configured
from pycodex.agent.rollout import RecordedThread, RolloutLoadError, load_thread
from pycodex.agent.threads import ManagedThread, ThreadManager
from pycodex.cli.exec_args import ExecArgs
from pycodex.cli.sandbox_probe import current_status
from pycodex.cli.std_streams import EXIT_STDOUT_CLOSED, StdoutClosedError, write_stdout
from pycodex.config import Config, ConfigError
from pycodex.execution.sandbox import unavailable_message
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ApprovalDecision, InputItem, Shutdown, UserTurn
from pycodex.protocol.policies import SandboxMode
from pycodex.sessions.errors import SessionError

if TYPE_CHECKING:
    from pycodex.frontends.exec_human import ExecHumanPrinter
    from pycodex.frontends.exec_jsonl import ExecJsonlProcessor
    from pycodex.mcp.manager import McpStartup


@dataclass(frozen=True)
class ExecOutcome:
    exit_code: int
    last_message: str | None
    error: str | None = None


async def run_exec_session(
    args: ExecArgs,
    config: Config,
    prompt: str,
    items: tuple[InputItem, ...],
    interrupted: asyncio.Event,
) -> ExecOutcome:
    refusal = sandbox_refusal(config)
    if refusal is not None:
        sys.stderr.write(f"ERROR: {refusal}\n")
        return ExecOutcome(1, None, refusal)
    manager = ThreadManager(config, originator="pycodex_exec", on_warning=_warn)
    try:
        return await _start_and_drive(manager, args, config, prompt, items, interrupted)
    finally:
        await manager.shutdown()


async def _start_and_drive(
    manager: ThreadManager,
    args: ExecArgs,
    config: Config,
    prompt: str,
    items: tuple[InputItem, ...],
    interrupted: asyncio.Event,
) -> ExecOutcome:
    """MCP servers first (a required one that fails ends the run before any request), then
    the root thread, then its turn."""
    try:
        started = await _unless_interrupted(manager.start_mcp(), interrupted)
        if started is _INTERRUPTED:
            sys.stderr.write("ERROR: interrupted while the MCP servers were starting\n")
            return ExecOutcome(1, None, "interrupted")
        startup = cast("McpStartup | None", started)
        recorded = _recorded_thread(args, config) if args.resume else None
        if startup is not None and (fatal := startup.fatal()) is not None:
            sys.stderr.write(f"ERROR: {fatal}\n")
            return ExecOutcome(1, None, fatal)
        thread = manager.start_thread(source="exec", recorded=recorded)
    except (ConfigError, SessionError, RolloutLoadError) as err:
        sys.stderr.write(f"error: {err}\n")
        return ExecOutcome(2, None, str(err))
    for warning in thread.built.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    notes = startup.warnings() if startup is not None else []
    memory_check = start_memories(config, thread.thread_id)
    try:
        return await _drive(manager, thread, args, config, prompt, items, interrupted, notes)
    finally:
        if memory_check is not None:
            memory_check.join()  # quick; makes sure a needed worker was started before exit


def start_memories(config: Config, thread_id: str) -> threading.Thread | None:
    """With `[features] memories` on, look for memory work in the background and hand it to a
    detached worker (docs/memories.md); the session never waits for it."""
    if not config.memories_enabled:
        return None
    from pycodex.memories.background import start_background_update

    return start_background_update(config, thread_id)


_INTERRUPTED = object()


async def _unless_interrupted(work: Awaitable[object], interrupted: asyncio.Event) -> object:
    """`work`'s result, or `_INTERRUPTED` (with `work` cancelled) when Ctrl-C comes first."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(interrupted.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return _INTERRUPTED


def _warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")


def _recorded_thread(args: ExecArgs, config: Config) -> RecordedThread:
    """The session `exec resume` names; its reader warnings are printed here."""
    recorded = load_thread(_session_to_resume(args, config))
    for warning in recorded.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    return recorded


def _session_to_resume(args: ExecArgs, config: Config) -> Path:
    from pycodex.sessions.listing import find_session, latest_session

    if args.resume_id is not None:
        return find_session(config.codex_home, args.resume_id)
    path = latest_session(config.codex_home, config.cwd)
    if path is None:
        raise SessionError(
            f"no recorded session for {config.cwd} to resume (see `pycodex sessions`)"
        )
    return path


async def _drive(
    manager: ThreadManager,
    thread: ManagedThread,
    args: ExecArgs,
    config: Config,
    prompt: str,
    items: tuple[InputItem, ...],
    interrupted: asyncio.Event,
    notes: list[str],
) -> ExecOutcome:
    engine = thread.engine
    sink = _Sink(args, config, prompt)
    runner = asyncio.create_task(engine.run())
    watcher = asyncio.create_task(_forward_interrupt(manager, thread, interrupted))
    engine.emit(session_configured(engine.state, config))
    for note in notes:  # MCP servers that did not start: said, not silently dropped
        engine.emit(ev.Warning(note))
    engine.submit(UserTurn(items))
    last_message: str | None = None
    failed = stdout_closed = False
    async for event in engine.events():
        try:
            sink.process(event)
        except StdoutClosedError:
            if not stdout_closed:  # nobody reads any more: stop the turn, end the thread
                stdout_closed = True
                manager.interrupt_tree(thread.thread_id)
                engine.submit(Shutdown())
        if isinstance(event, ev.ApprovalRequest):
            # Nobody can answer in exec: every request is denied, and the model is told.
            engine.submit(ApprovalDecision(event.call_id, "denied"))
        if isinstance(event, ev.TurnComplete):
            last_message, failed = event.last_agent_message, event.failed
            engine.submit(Shutdown())
        elif isinstance(event, ev.TurnAborted):
            failed = True
            engine.submit(Shutdown())
        elif isinstance(event, ev.Error):
            # Also after the turn: the session file's last records could not be written.
            failed = True
    watcher.cancel()
    await runner
    if stdout_closed:
        return ExecOutcome(EXIT_STDOUT_CLOSED, last_message, "stdout closed")
    if failed:
        return ExecOutcome(1, last_message, "turn failed")
    return ExecOutcome(0, last_message)


async def _forward_interrupt(
    manager: ThreadManager, thread: ManagedThread, interrupted: asyncio.Event
) -> None:
    """Ctrl-C stops the whole tree: the root's turn and every sub-agent's."""
    await interrupted.wait()
    manager.interrupt_tree(thread.thread_id)


class _Sink:
    """Sends each event to the JSONL processor (stdout) or the human printer (stderr)."""

    def __init__(self, args: ExecArgs, config: Config, prompt: str) -> None:
        self.jsonl: ExecJsonlProcessor | None = None
        if args.json:
            # Each output mode loads only its own module.
            from pycodex.frontends.exec_jsonl import ExecJsonlProcessor

            self.jsonl = ExecJsonlProcessor()
        self.human: ExecHumanPrinter | None = None
        if not args.json:
            from pycodex.frontends.exec_human import ExecHumanPrinter, Styles

            colour = args.color == "always" or (args.color == "auto" and sys.stderr.isatty())
            self.human = ExecHumanPrinter(
                sys.stderr, Styles(colour), show_reasoning=not config.hide_agent_reasoning
            )
            self._pending_header = (config, prompt)

    def process(self, event: ev.EngineEvent) -> None:
        if self.jsonl is not None:
            if isinstance(event, ev.HookReport):  # for people, never on the JSONL stream
                sys.stderr.write(f"hook: {event.message}\n")
            lines = [out.to_json() + "\n" for out in self.jsonl.process(event)]
            if lines:
                write_stdout("".join(lines))
            return
        assert self.human is not None
        if isinstance(event, ev.SessionConfigured):
            config, prompt = self._pending_header
            self.human.header(_header_lines(config, event), prompt)
            return
        self.human.process(event)


def _header_lines(config: Config, event: ev.SessionConfigured) -> list[tuple[str, str]]:
    return [
        ("workdir", str(config.cwd)),
        ("model", config.model),
        ("provider", config.model_provider_id),
        ("approval", config.approval_policy.value),
        ("sandbox", sandbox_summary(config)),
        ("reasoning effort", event.reasoning_effort or "none"),
        ("reasoning summaries", event.reasoning_summary or "none"),
        ("session id", event.thread_id),
    ]


def sandbox_summary(config: Config) -> str:
    """The header's sandbox line, as upstream words it: `workspace-write [workdir, /tmp, $TMPDIR,
    <more roots>]`, plus `(network access enabled)` when it is."""
    policy = config.sandbox_policy()
    if policy.mode is not SandboxMode.WORKSPACE_WRITE:
        return policy.mode.value
    roots = ["workdir"]
    if not policy.exclude_slash_tmp:
        roots.append("/tmp")
    if not policy.exclude_tmpdir_env_var:
        roots.append("$TMPDIR")
    roots += [str(root) for root in policy.writable_roots if root != config.cwd]
    summary = f"{policy.mode.value} [{', '.join(roots)}]"
    return summary + (" (network access enabled)" if policy.network_access else "")


def sandbox_refusal(config: Config) -> str | None:
    """One line saying why nothing may run, when the sandbox the config asks for cannot work."""
    if config.sandbox_mode is SandboxMode.DANGER_FULL_ACCESS:
        return None
    status = current_status()
    if status.available:
        if not status.network_blockable and not config.sandbox_policy().network_access:
            sys.stderr.write(f"warning: {status.detail}\n")
        return None
    return unavailable_message(status)
