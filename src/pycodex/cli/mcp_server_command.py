"""`pycodex mcp-server [-c key=value]...`: serve pycodex over MCP on stdin/stdout.

The `-c` overrides apply to every session; each `codex` call adds its own settings on top
(see `frontends/mcp_server.py`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from pycodex.config import Config, ConfigError, ConfigOverrides, parse_cli_override
from pycodex.protocol.policies import AskForApproval, SandboxMode

USAGE = "usage: pycodex mcp-server [-c KEY=VALUE]...\n"


def run_mcp_server_command(argv: list[str]) -> int:
    overrides: list[tuple[str, Any]] = []
    rest = list(argv)
    try:
        while rest:
            flag = rest.pop(0)
            if flag in ("-h", "--help"):
                sys.stdout.write(USAGE)
                return 0
            if flag not in ("-c", "--config") or not rest:
                raise ConfigError(f"unexpected argument {flag!r}", origin="command line")
            overrides.append(parse_cli_override(rest.pop(0)))
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n{USAGE}")
        return 2
    from pycodex.frontends.mcp_server import CodexMcpServer

    server = CodexMcpServer(lambda arguments: _config_for_call(overrides, arguments))
    try:
        asyncio.run(server.serve_stdio())
    except KeyboardInterrupt:
        return 130
    return 0


def _config_for_call(base: list[tuple[str, Any]], arguments: dict[str, Any]) -> Config:
    """The config of one `codex` call: the server's `-c` overrides, then the call's own."""
    from pycodex.config import resolve_config

    extra = arguments.get("config") or {}
    if not isinstance(extra, dict):
        raise ConfigError("`config` must be an object of config keys", origin="codex tool call")
    approval = _text(arguments, "approval-policy")
    sandbox = _text(arguments, "sandbox")
    cwd = _text(arguments, "cwd")
    overrides = ConfigOverrides(
        model=_text(arguments, "model"),
        profile=_text(arguments, "profile"),
        cwd=Path(cwd) if cwd else None,
        approval_policy=AskForApproval(approval) if approval else None,
        sandbox_mode=SandboxMode(sandbox) if sandbox else None,
        base_instructions=_text(arguments, "base-instructions"),
        developer_instructions=_text(arguments, "developer-instructions"),
        cli_overrides=[*base, *((str(key), value) for key, value in extra.items())],
    )
    compact = _text(arguments, "compact-prompt")
    if compact:
        overrides.cli_overrides.append(("compact_prompt", compact))
    return resolve_config(overrides, env=os.environ)


def _text(arguments: dict[str, Any], key: str) -> str | None:
    value = arguments.get(key)
    return value if isinstance(value, str) and value else None
