"""`pycodex [OPTIONS] [PROMPT]`: the interactive agent.

On a terminal it opens the input line (running PROMPT first when given) and stays until /exit,
Ctrl-D or a confirmed Ctrl-C. When stdin or stdout is not a terminal it runs the one turn (PROMPT,
piped stdin, or both), prints it and exits: 0 on success, 1 when the turn failed, 2 for usage and
configuration errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, NoReturn

from pycodex.agent.rollout import RecordedThread, RolloutLoadError, load_thread
from pycodex.agent.threads import ThreadManager
from pycodex.cli.exec_args import UsageError
from pycodex.cli.exec_command import read_prompt
from pycodex.cli.exec_session import start_memories
from pycodex.cli.local_provider import check_api_key
from pycodex.config import Config, ConfigError, ConfigOverrides, parse_cli_override, resolve_config
from pycodex.frontends.repl import ReplApp, ReplThread, ThreadFactory, run_plain
from pycodex.frontends.repl.markup import Painter
from pycodex.frontends.repl.user_input import ReplUserInput
from pycodex.protocol.policies import AskForApproval, SandboxMode
from pycodex.sessions import SessionError, find_session, latest_session

ORIGINATOR = "pycodex_cli"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `pycodex --help`)")


def _build_parser(resume: bool = False) -> _Parser:
    if resume:
        p = _Parser(prog="pycodex resume", description="Continue a recorded session.")
        p.add_argument("session_id", nargs="?", metavar="SESSION_ID", help="id or unique prefix")
        p.add_argument("--last", action="store_true", help="the newest session of this directory")
    else:
        p = _Parser(prog="pycodex", description="The interactive coding agent.")
    p.add_argument("prompt", nargs="?", metavar="PROMPT", help="first message to send")
    p.add_argument("-m", "--model")
    p.add_argument("-p", "--profile")
    p.add_argument("-s", "--sandbox", choices=[mode.value for mode in SandboxMode])
    p.add_argument("-a", "--ask-for-approval", choices=[policy.value for policy in AskForApproval])
    p.add_argument("--full-auto", action="store_true")
    p.add_argument(
        "--dangerously-bypass-approvals-and-sandbox", "--yolo", dest="yolo", action="store_true"
    )
    p.add_argument("--dangerously-bypass-hook-trust", dest="bypass_hook_trust", action="store_true")
    p.add_argument("-C", "--cd", type=Path)
    p.add_argument("--add-dir", action="append", default=[], type=Path)
    p.add_argument("-c", "--config", action="append", default=[])
    p.add_argument("-i", "--image", action="append", default=[])
    p.add_argument("--color", choices=["always", "never", "auto"], default="auto")
    p.add_argument("--oss", action="store_true")
    p.add_argument("--no-alt-screen", action="store_true", help=argparse.SUPPRESS)
    return p


def interactive_help() -> str:
    return _build_parser().format_help()


def run_interactive(argv: list[str], *, resume: bool = False) -> int:
    """`pycodex …`; with `resume`, `pycodex resume [SESSION_ID | --last] [PROMPT] …`."""
    try:
        args = _build_parser(resume).parse_args(argv)
        config = _resolve(args)
        recorded = _recorded(args, config) if resume else None
        check_api_key(config)  # a missing key is an error before any input
        images = tuple(Path(part) for value in args.image for part in value.split(",") if part)
        for image in images:
            if not image.is_file():
                raise UsageError(f"--image: {image} is not a readable file")
        on_terminal = sys.stdin.isatty() and sys.stdout.isatty()
        prompt = args.prompt if on_terminal else read_prompt(args.prompt)
    except (UsageError, ConfigError, SessionError, RolloutLoadError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    for warning in config.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if not config.model_provider.managed:
        return _run(config, recorded, prompt, images, args.color, on_terminal)
    # pycodex's own local model server: installed and started on first use (docs/local.md).
    from pycodex.cli.local_managed import run_with_managed_model

    return run_with_managed_model(
        config,
        args.model,
        lambda managed: _run(managed, recorded, prompt, images, args.color, on_terminal),
    )


def _run(
    config: Config,
    recorded: RecordedThread | None,
    prompt: str | None,
    images: tuple[Path, ...],
    color: str,
    on_terminal: bool,
) -> int:
    colour = _colour(color, on_terminal)
    manager = ThreadManager(config, originator=ORIGINATOR)
    memory_checks: list[threading.Thread] = []
    factory = _thread_factory(manager, recorded, memory_checks)
    if on_terminal:
        run = _interactive(config, factory, prompt, images, colour)
    else:
        assert prompt is not None
        run = _plain(config, factory, prompt, colour)
    code = asyncio.run(_with_mcp(manager, run))
    for check in memory_checks:
        check.join()  # quick; makes sure a needed memory worker was started before exit
    return code


async def _with_mcp(manager: ThreadManager, run: Coroutine[Any, Any, int]) -> int:
    """Start the MCP servers before the first thread (each one that fails is a warning line; a
    required one ends the session), run the session, then stop them."""
    try:
        startup = await manager.start_mcp()
        if startup is not None:
            for warning in startup.warnings():
                sys.stderr.write(f"warning: {warning}\n")
            fatal = startup.fatal()
            if fatal is not None:
                run.close()
                sys.stderr.write(f"error: {fatal}\n")
                return 1
        return await run
    except ConfigError as err:
        run.close()
        sys.stderr.write(f"error: {err}\n")
        return 2
    finally:
        await manager.shutdown()


def _recorded(args: argparse.Namespace, config: Config) -> RecordedThread:
    """The session `pycodex resume` continues: by id (or prefix), or the newest here."""
    if args.session_id is not None and args.last:
        raise UsageError("resume takes a SESSION_ID or --last, not both")
    if args.session_id is not None:
        path = find_session(config.codex_home, args.session_id)
    else:
        found = latest_session(config.codex_home, config.cwd)
        if found is None:
            raise SessionError(f"no recorded session for {config.cwd} (see `pycodex sessions`)")
        path = found
    recorded = load_thread(path)
    for warning in recorded.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    return recorded


def _resolve(args: argparse.Namespace) -> Config:
    sandbox = SandboxMode(args.sandbox) if args.sandbox else None
    approval = AskForApproval(args.ask_for_approval) if args.ask_for_approval else None
    if args.full_auto:
        sandbox = sandbox or SandboxMode.WORKSPACE_WRITE
        approval = approval or AskForApproval.ON_REQUEST
    if args.yolo:
        sandbox, approval = SandboxMode.DANGER_FULL_ACCESS, AskForApproval.NEVER
    overrides = [parse_cli_override(raw) for raw in args.config]
    if args.oss:
        overrides.insert(0, ("model_provider", "oss"))
    return resolve_config(
        ConfigOverrides(
            model=args.model,
            profile=args.profile,
            cwd=args.cd,
            approval_policy=approval,
            sandbox_mode=sandbox,
            additional_writable_roots=tuple(args.add_dir),
            bypass_hook_trust=args.bypass_hook_trust,
            cli_overrides=overrides,
        ),
        env=os.environ,
    )


def _colour(choice: str, on_terminal: bool) -> bool:
    if choice != "auto":
        return choice == "always"
    # https://no-color.org: any non-empty NO_COLOR turns colour off.
    return on_terminal and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _thread_factory(
    manager: ThreadManager,
    recorded: RecordedThread | None = None,
    memory_checks: list[threading.Thread] | None = None,
) -> ThreadFactory:
    """Builds the session's threads: the first continues `recorded` when given, /new starts
    fresh ones. The first also starts the memory pipeline's check (`memory_checks` holds it)."""
    pending = [recorded] if recorded is not None else []
    memories_started: list[bool] = []

    def build(user_input: ReplUserInput | None, resume: Path | None) -> ReplThread:
        if resume is not None:
            try:
                pending[:] = [load_thread(resume)]
            except RolloutLoadError as err:
                raise ValueError(str(err)) from None
        thread = manager.start_thread(
            source="cli", user_input=user_input, recorded=pending.pop() if pending else None
        )
        for warning in thread.built.warnings:
            sys.stderr.write(f"warning: {warning}\n")
        if not memories_started:  # once per process, for the first thread
            memories_started.append(True)
            check = start_memories(manager.config, thread.thread_id)
            if check is not None and memory_checks is not None:
                memory_checks.append(check)

        async def close() -> None:
            await manager.release(thread.thread_id)

        return ReplThread(thread.engine, thread.built.configured, close, manager)

    return build


async def _interactive(
    config: Config,
    factory: ThreadFactory,
    prompt: str | None,
    images: tuple[Path, ...],
    colour: bool,
) -> int:
    app = ReplApp(config, factory, colour=colour)
    return await app.run(prompt, images)


async def _plain(config: Config, factory: ThreadFactory, prompt: str, colour: bool) -> int:
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    try:
        thread = factory(None, None)
        width = shutil.get_terminal_size((100, 24)).columns
        return await run_plain(
            thread,
            prompt,
            sys.stdout,
            painter=Painter(width, colour),
            context_window=config.model_context_window,
            interrupted=interrupted,
            show_reasoning=not config.hide_agent_reasoning,
        )
    finally:
        loop.remove_signal_handler(signal.SIGINT)
