"""`pycodex [-c key=value]... app-server --listen stdio://`: serve the app-server protocol.

The Codex SDKs start this and speak JSON-RPC over its stdin and stdout (docs/app-server.md).
Only the stdio transport exists. Exit codes: 0 when the client closed the connection (or sent
SIGTERM), 2 for a bad command line or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from typing import Any, NoReturn

from pycodex.cli.exec_args import UsageError
from pycodex.config import (
    Config,
    ConfigError,
    ConfigOverrides,
    parse_cli_override,
    resolve_config,
)

STDIO = "stdio://"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `pycodex app-server --help`)")


def _build_parser() -> _Parser:
    p = _Parser(
        prog="pycodex app-server",
        description="Serve the Codex app-server protocol (JSON-RPC, one JSON object per line).",
    )
    p.add_argument("--listen", default=STDIO, metavar="URL", help="only stdio:// (the default)")
    p.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--dangerously-bypass-hook-trust",
        dest="bypass_hook_trust",
        action="store_true",
        help="run every enabled hook without checking that you trusted it",
    )
    p.add_argument("--max-queued-requests", type=int, default=None, help=argparse.SUPPRESS)
    return p


def run_app_server_command(argv: list[str], global_config: list[str]) -> int:
    from pycodex.frontends.app_server.server import DEFAULT_MAX_QUEUED

    try:
        args = _build_parser().parse_args(argv)
        if args.listen != STDIO:
            raise UsageError(f"--listen {args.listen}: only {STDIO} is supported")
        overrides = [parse_cli_override(raw) for raw in [*global_config, *args.config]]
        config = resolve_config(
            ConfigOverrides(cli_overrides=overrides, bypass_hook_trust=args.bypass_hook_trust),
            env=os.environ,
        )
        if config.mcp_servers:  # a bad table ends the launch, not the first thread/start
            from pycodex.mcp.config import enabled_servers

            enabled_servers(config.mcp_servers)
    except (UsageError, ConfigError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    for warning in config.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    max_queued = args.max_queued_requests or DEFAULT_MAX_QUEUED
    return asyncio.run(_serve(config, overrides, max_queued))


async def _serve(config: Config, overrides: list[tuple[str, Any]], max_queued: int) -> int:
    from pycodex.frontends.app_server.server import AppServer
    from pycodex.frontends.app_server.transport import StdioTransport

    server = AppServer(config, overrides, StdioTransport(), max_queued=max_queued)
    loop = asyncio.get_running_loop()
    serving = asyncio.create_task(server.run())
    # The SDK closes stdin, then sends SIGTERM: either way, shut the threads down cleanly.
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, serving.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serving  # its own `finally` shuts every thread down
    return 0
