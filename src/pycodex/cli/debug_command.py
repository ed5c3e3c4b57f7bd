"""`pycodex debug prompt [PROMPT]`: print the exact request body the next turn would send.
`pycodex debug clear-memories`: forget what the memory pipeline learned (docs/memories.md).

It builds the thread as `exec` would (same config, catalog, context and tools), puts the
initial context and PROMPT after the history, and prints the JSON body that would be POSTed to
`{base_url}/responses`. Nothing is sent. `--resume ID|--last` shows it for a recorded session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from typing import Any, NoReturn

from pycodex.agent.rollout import RecordedThread, RolloutLoadError, load_thread
from pycodex.agent.sampling import build_prompt
from pycodex.agent.state import ThreadState
from pycodex.agent.threads import ThreadManager
from pycodex.agent.turn import request_context
from pycodex.client.request import Prompt, build_responses_body
from pycodex.config import ConfigError, ConfigOverrides, parse_cli_override, resolve_config
from pycodex.protocol.items import user_message
from pycodex.sessions import SessionError, find_session, latest_session


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message} (see `pycodex debug prompt --help`)\n")
        raise SystemExit(2)


def run_debug_command(argv: list[str]) -> int:
    if argv and argv[0] == "clear-memories":
        return _clear_memories(argv[1:])
    if not argv or argv[0] != "prompt":
        sys.stderr.write("usage: pycodex debug prompt [PROMPT] [-m MODEL] [-c key=value]\n")
        return 2
    parser = _Parser(prog="pycodex debug prompt")
    parser.add_argument("prompt", nargs="?", default="(your next message)")
    parser.add_argument("-m", "--model")
    parser.add_argument("-p", "--profile")
    parser.add_argument("-c", "--config", action="append", default=[])
    parser.add_argument("--resume", metavar="ID", help="a recorded session id, or `last`")
    args = parser.parse_args(argv[1:])
    try:
        config = resolve_config(
            ConfigOverrides(
                model=args.model,
                profile=args.profile,
                ephemeral=True,
                cli_overrides=[parse_cli_override(raw) for raw in args.config],
            ),
            env=os.environ,
        )
        recorded = None
        if args.resume:
            path = (
                latest_session(config.codex_home, config.cwd)
                if args.resume == "last"
                else find_session(config.codex_home, args.resume)
            )
            if path is None:
                raise SessionError(f"no recorded session for {config.cwd}")
            recorded = load_thread(path)
        # Through the thread manager, as exec builds it: the same tools (sub-agents and the
        # configured MCP servers' included: they are started, listed and stopped).
        manager = ThreadManager(config, originator="pycodex_exec")
        body = asyncio.run(_body(manager, recorded, args.prompt))
    except (ConfigError, SessionError, RolloutLoadError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return 0


async def _body(
    manager: ThreadManager, recorded: RecordedThread | None, text: str
) -> dict[str, Any]:
    try:
        startup = await manager.start_mcp()
        for warning in startup.warnings() if startup is not None else []:
            sys.stderr.write(f"warning: {warning}\n")
        thread = manager.start_thread(source="debug", recorded=recorded)
        return _request(thread.state, text)
    finally:
        await manager.shutdown()


def _request(state: ThreadState, text: str) -> dict[str, Any]:
    prompt = build_prompt(state)
    upcoming = [*state.context.turn_context_items(), user_message(text)]
    prompt = Prompt(
        input=[*prompt.input, *upcoming],
        instructions=prompt.instructions,
        tools=prompt.tools,
        parallel_tool_calls=prompt.parallel_tool_calls,
        output_schema=prompt.output_schema,
    )
    return build_responses_body(
        prompt, state.client.settings, request_context(state, str(uuid.uuid4()))
    )


def _clear_memories(argv: list[str]) -> int:
    """`pycodex debug clear-memories` (hidden, as upstream's): see `memories/clear.py`."""
    if argv:
        sys.stderr.write("usage: pycodex debug clear-memories\n")
        return 2
    from pycodex.config import find_codex_home
    from pycodex.memories.clear import MemoriesBusyError, clear_memories

    try:
        message = clear_memories(find_codex_home(os.environ))
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except (MemoriesBusyError, OSError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    sys.stdout.write(message + "\n")
    return 0
