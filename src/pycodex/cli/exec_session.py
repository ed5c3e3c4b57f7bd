"""Wiring one `pycodex exec` run: config → client, context, tools, engine → frontend."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from pycodex.agent.engine import Engine
from pycodex.agent.rollout import (
    RolloutLoadError,
    continue_recording,
    load_thread,
    session_meta,
    start_recording,
)
from pycodex.agent.state import ThreadState
from pycodex.cli.exec_args import ExecArgs
from pycodex.client.request import ModelSettings
from pycodex.client.responses import ResponsesModelClient
from pycodex.config import Config, ConfigError
from pycodex.context.manager import ContextManager
from pycodex.frontends.exec_human import ExecHumanPrinter, Styles
from pycodex.frontends.exec_jsonl import ExecJsonlProcessor
from pycodex.protocol import events as ev
from pycodex.protocol.exec_events import to_json_line
from pycodex.protocol.ops import InputItem, Interrupt, Shutdown, UserTurn
from pycodex.protocol.policies import SandboxMode
from pycodex.sessions import SessionError, find_session, latest_session
from pycodex.sessions.ids import new_thread_id
from pycodex.tools.builtin import build_default_tools


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
    context = ContextManager.from_config(config)
    for warning in context.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    info = context.model_info
    assert info is not None  # from_config always resolves the model
    settings = ModelSettings(
        model=config.model,
        reasoning_effort=info.reasoning_effort,
        reasoning_summary=info.reasoning_summary,
        verbosity=info.verbosity,
    )
    try:
        client = ResponsesModelClient.from_config(
            config, originator="pycodex_exec", settings=settings
        )
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n")
        return ExecOutcome(2, None, str(err))
    tools, services = build_default_tools(config, info)
    state = ThreadState(
        client=client,
        tools=tools,
        context=context,
        thread_id=new_thread_id(),
        shell_environment_policy=config.shell_environment_policy,
        output_schema=config.output_schema,
        parallel_tool_calls=info.parallel_tool_calls,
        tool_output_token_limit=info.tool_output_token_limit,
        services=services.as_dict(),
    )
    try:
        _attach_rollout(state, args, config)
    except (SessionError, RolloutLoadError) as err:
        sys.stderr.write(f"error: {err}\n")
        await client.aclose()
        return ExecOutcome(2, None, str(err))

    async def shutdown() -> None:
        await services.shutdown()
        if state.recorder is not None:
            await state.recorder.close()

    engine = Engine(state, on_shutdown=shutdown)
    _warn_unenforced(config)
    try:
        return await _drive(engine, args, config, prompt, items, interrupted)
    finally:
        await client.aclose()


def _attach_rollout(state: ThreadState, args: ExecArgs, config: Config) -> None:
    """Continue the session `exec resume` names, or start recording a new one."""
    if args.resume:
        path = _session_to_resume(args, config)
        recorded = load_thread(path)
        for warning in recorded.warnings:
            sys.stderr.write(f"warning: {warning}\n")
        continue_recording(state, recorded)
    elif not config.ephemeral:
        meta = session_meta(
            state,
            cwd=config.cwd,
            originator="pycodex_exec",
            provider_id=config.model_provider_id,
            source="exec",
        )
        start_recording(state, config.codex_home, meta)


def _session_to_resume(args: ExecArgs, config: Config) -> Path:
    if args.resume_id is not None:
        return find_session(config.codex_home, args.resume_id)
    path = latest_session(config.codex_home, config.cwd)
    if path is None:
        raise SessionError(
            f"no recorded session for {config.cwd} to resume (see `pycodex sessions`)"
        )
    return path


async def _drive(
    engine: Engine,
    args: ExecArgs,
    config: Config,
    prompt: str,
    items: tuple[InputItem, ...],
    interrupted: asyncio.Event,
) -> ExecOutcome:
    sink = _Sink(args, config, prompt)
    runner = asyncio.create_task(engine.run())
    watcher = asyncio.create_task(_forward_interrupt(engine, interrupted))
    engine.emit(_session_configured(engine.state, config))
    engine.submit(UserTurn(items))
    last_message: str | None = None
    failed = False
    async for event in engine.events():
        sink.process(event)
        if isinstance(event, ev.TurnComplete):
            last_message, failed = event.last_agent_message, event.failed
            engine.submit(Shutdown())
        elif isinstance(event, ev.TurnAborted):
            failed = True
            engine.submit(Shutdown())
    watcher.cancel()
    await runner
    if failed:
        return ExecOutcome(1, last_message, "turn failed")
    return ExecOutcome(0, last_message)


async def _forward_interrupt(engine: Engine, interrupted: asyncio.Event) -> None:
    await interrupted.wait()
    engine.submit(Interrupt())


class _Sink:
    """Sends each event to the JSONL processor (stdout) or the human printer (stderr)."""

    def __init__(self, args: ExecArgs, config: Config, prompt: str) -> None:
        self.jsonl = ExecJsonlProcessor() if args.json else None
        self.human: ExecHumanPrinter | None = None
        if not args.json:
            colour = args.color == "always" or (args.color == "auto" and sys.stderr.isatty())
            self.human = ExecHumanPrinter(sys.stderr, Styles(colour))
            self._pending_header = (config, prompt)

    def process(self, event: ev.EngineEvent) -> None:
        if self.jsonl is not None:
            for out in self.jsonl.process(event):
                sys.stdout.write(to_json_line(out) + "\n")
            sys.stdout.flush()
            return
        assert self.human is not None
        if isinstance(event, ev.SessionConfigured):
            config, prompt = self._pending_header
            self.human.header(_header_lines(config, event), prompt)
            return
        self.human.process(event)


def _session_configured(state: ThreadState, config: Config) -> ev.SessionConfigured:
    return ev.SessionConfigured(
        thread_id=state.thread_id,
        session_id=state.session_id,
        model=config.model,
        provider_id=config.model_provider_id,
        cwd=config.cwd,
        approval_policy=config.approval_policy.value,
        sandbox_mode=config.sandbox_mode.value,
        reasoning_effort=state.client.settings.reasoning_effort,
        reasoning_summary=state.client.settings.reasoning_summary,
        rollout_path=state.rollout_path,
    )


def _header_lines(config: Config, event: ev.SessionConfigured) -> list[tuple[str, str]]:
    return [
        ("workdir", str(config.cwd)),
        ("model", config.model),
        ("provider", config.model_provider_id),
        ("approval", config.approval_policy.value),
        ("sandbox", config.sandbox_mode.value),
        ("reasoning effort", event.reasoning_effort or "none"),
        ("reasoning summaries", event.reasoning_summary or "none"),
        ("session id", event.thread_id),
    ]


def _warn_unenforced(config: Config) -> None:
    if config.sandbox_mode is not SandboxMode.DANGER_FULL_ACCESS:
        sys.stderr.write(
            f"warning: sandbox mode {config.sandbox_mode.value!r} is not enforced yet: "
            "commands run with your own permissions\n"
        )
