"""`pycodex mcp`: add, list, show and remove the MCP servers of `$CODEX_HOME/config.toml`.

    pycodex mcp add NAME [--env KEY=VALUE]... -- COMMAND [ARGS]...
    pycodex mcp add NAME --url URL [--bearer-token-env-var VAR]
    pycodex mcp list [--json]
    pycodex mcp get NAME [--json]
    pycodex mcp remove NAME

Outputs and exit codes are upstream's (`codex mcp`); `Error: ...` lines exit 1, a bad command
line exits 2. `add` and `remove` rewrite config.toml through tomlkit, which keeps the user's
comments and layout (imported only by these two).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from pycodex.config import ConfigError, ConfigOverrides, parse_cli_override, resolve_config
from pycodex.mcp.config import (
    SERVER_NAME_CHARS,
    HttpTransport,
    McpServerConfig,
    parse_servers,
    valid_server_name,
)

USAGE = """usage: pycodex mcp add NAME [--env KEY=VALUE]... -- COMMAND [ARGS]...
       pycodex mcp add NAME --url URL [--bearer-token-env-var VAR]
       pycodex mcp list [--json]
       pycodex mcp get NAME [--json]
       pycodex mcp remove NAME
"""


class _UsageError(Exception):
    pass


class _Failure(Exception):
    """Printed as `Error: <message>`, exit 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def run_mcp_command(argv: list[str]) -> int:
    overrides, argv = _config_flags(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    handlers = {"add": _add, "list": _list, "get": _get, "remove": _remove}
    handler = handlers.get(command)
    try:
        if handler is None:
            raise _UsageError(f"unknown command {command!r}")
        handler(rest, overrides)
    except _UsageError as err:
        sys.stderr.write(f"error: {err}\n{USAGE}")
        return 2
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except _Failure as err:
        sys.stderr.write(f"Error: {err}\n")
        return 1
    return 0


def _config_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """`-c key=value` given before the subcommand (as for `pycodex exec`)."""
    overrides: list[str] = []
    while len(argv) >= 2 and argv[0] in ("-c", "--config"):
        overrides.append(argv[1])
        argv = argv[2:]
    return overrides, argv


def _codex_home() -> Path:
    from pycodex.config import find_codex_home

    return find_codex_home(os.environ)


# --- add / remove ---------------------------------------------------------------------------


def _add(argv: list[str], _overrides: list[str]) -> None:
    before, command = _split(argv)
    parser = _Parser(prog="pycodex mcp add", add_help=False)
    parser.add_argument("name")
    parser.add_argument("command", nargs="*")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--url")
    parser.add_argument("--bearer-token-env-var", metavar="VAR")
    args = parser.parse_args(before)
    command = [*args.command, *command]
    if args.url is not None and command:
        raise _UsageError("give either --url or a command after `--`, not both")
    if args.url is None and not command:
        raise _UsageError("give a command after `--` (stdio) or --url (streamable HTTP)")
    if args.bearer_token_env_var and args.url is None:
        raise _UsageError("--bearer-token-env-var needs --url")
    _check_name(args.name)
    if args.url is not None and not args.env:
        entry: dict[str, Any] = {"url": args.url}
        if args.bearer_token_env_var:
            entry["bearer_token_env_var"] = args.bearer_token_env_var
    else:
        if not command:
            raise _Failure("command is required")
        entry = {"command": command[0]}
        if command[1:]:
            entry["args"] = command[1:]
        if args.env:
            entry["env"] = dict(_env_pair(pair) for pair in args.env)
    _edit_servers(lambda servers: _put(servers, args.name, entry))
    sys.stdout.write(f"Added global MCP server '{args.name}'.\n")


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Options and name before `--`, the server's command line after it."""
    if "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1 :]
    return argv, []


def _env_pair(raw: str) -> tuple[str, str]:
    key, sep, value = raw.partition("=")
    if not sep or not key.strip():
        raise _UsageError("environment entries must be in KEY=VALUE form")
    return key.strip(), value


def _check_name(name: str) -> None:
    if not valid_server_name(name):
        raise _Failure(f"invalid server name '{name}' (use {SERVER_NAME_CHARS})")


def _remove(argv: list[str], _overrides: list[str]) -> None:
    parser = _Parser(prog="pycodex mcp remove", add_help=False)
    parser.add_argument("name")
    name = parser.parse_args(argv).name
    _check_name(name)
    removed = _edit_servers(lambda servers: servers.pop(name, None) is not None)
    if removed:
        sys.stdout.write(f"Removed global MCP server '{name}'.\n")
    else:
        sys.stdout.write(f"No MCP server named '{name}' found.\n")


def _put(servers: Any, name: str, entry: dict[str, Any]) -> bool:
    import tomlkit

    table = tomlkit.table()
    for key, value in entry.items():
        if key == "env":
            continue
        table[key] = value
    if "env" in entry:
        env = tomlkit.table()
        for key, value in sorted(entry["env"].items()):
            env[key] = value
        table["env"] = env
    servers[name] = table
    return True


def _edit_servers(change: Any) -> Any:
    """Apply `change` to the `[mcp_servers]` table of config.toml and write the file back
    (comments, order and formatting of everything else kept, `config.edit`); returns what
    `change` returned. The file is only written when `change` returns something true."""
    from pycodex.config.edit import ConfigEditError, edit_config, table_in

    path = _codex_home() / "config.toml"
    try:
        return edit_config(path, lambda document: change(table_in(document, "mcp_servers", path)))
    except ConfigEditError as err:
        raise _Failure(str(err)) from None


# --- list / get -----------------------------------------------------------------------------


def _servers(overrides: list[str]) -> list[McpServerConfig]:
    config = resolve_config(
        ConfigOverrides(cli_overrides=[parse_cli_override(raw) for raw in overrides]),
        env=os.environ,
    )
    return parse_servers(config.mcp_servers)


def _list(argv: list[str], overrides: list[str]) -> None:
    parser = _Parser(prog="pycodex mcp list", add_help=False)
    parser.add_argument("--json", action="store_true")
    as_json = parser.parse_args(argv).json
    servers = _servers(overrides)
    if as_json:
        entries = [_json_entry(server) | {"auth_status": _auth(server)} for server in servers]
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
        return
    if not servers:
        sys.stdout.write(
            "No MCP servers configured yet. Try `pycodex mcp add my-tool -- my-command`.\n"
        )
        return
    stdio = [_stdio_row(s) for s in servers if not isinstance(s.transport, HttpTransport)]
    http = [_http_row(s) for s in servers if isinstance(s.transport, HttpTransport)]
    blocks = []
    if stdio:
        blocks.append(_table(["Name", "Command", "Args", "Env", "Cwd", "Status", "Auth"], stdio))
    if http:
        headers = ["Name", "Url", "Bearer Token Env Var", "Status", "Auth"]
        blocks.append(_table(headers, http))
    sys.stdout.write("\n\n".join(blocks) + "\n")


def _get(argv: list[str], overrides: list[str]) -> None:
    parser = _Parser(prog="pycodex mcp get", add_help=False)
    parser.add_argument("name")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    server = next((s for s in _servers(overrides) if s.name == args.name), None)
    if server is None:
        raise _Failure(f"No MCP server named '{args.name}' found.")
    if args.json:
        entry = _json_entry(server)
        entry["enabled_tools"] = _list_or_none(server.enabled_tools)
        entry["disabled_tools"] = _list_or_none(server.disabled_tools)
        order = ["name", "enabled", "disabled_reason", "transport", "enabled_tools"]
        order += ["disabled_tools", "startup_timeout_sec", "tool_timeout_sec"]
        sys.stdout.write(json.dumps({key: entry[key] for key in order}, indent=2) + "\n")
        return
    sys.stdout.write("\n".join(_details(server)) + "\n")


def _details(server: McpServerConfig) -> list[str]:
    if not server.enabled:
        reason = f": {server.disabled_reason}" if server.disabled_reason else ""
        return [f"{server.name} (disabled{reason})"]
    lines = [server.name, "  enabled: true"]
    if server.enabled_tools is not None:
        lines.append(f"  enabled_tools: {_tool_list(server.enabled_tools)}")
    if server.disabled_tools is not None:
        lines.append(f"  disabled_tools: {_tool_list(server.disabled_tools)}")
    transport = server.transport
    if isinstance(transport, HttpTransport):
        lines += [
            "  transport: streamable_http",
            f"  url: {transport.url}",
            f"  bearer_token_env_var: {transport.bearer_token_env_var or '-'}",
            f"  http_headers: {_pairs(transport.http_headers, masked=True)}",
            f"  env_http_headers: {_pairs(transport.env_http_headers, masked=False)}",
            "  http_headers_helper: -",
        ]
    else:
        lines += [
            "  transport: stdio",
            f"  command: {transport.command}",
            f"  args: {' '.join(transport.args) or '-'}",
            f"  cwd: {transport.cwd or '-'}",
            f"  env: {_env_display(server)}",
        ]
    if server.startup_timeout_set is not None:
        lines.append(f"  startup_timeout_sec: {server.startup_timeout_set:g}")
    if server.tool_timeout_set is not None:
        lines.append(f"  tool_timeout_sec: {server.tool_timeout_set:g}")
    if server.default_tools_approval_mode is not None:
        lines.append(f"  default_tools_approval_mode: {server.default_tools_approval_mode}")
    lines.append(f"  remove: pycodex mcp remove {server.name}")
    return lines


def _json_entry(server: McpServerConfig) -> dict[str, Any]:
    transport = server.transport
    if isinstance(transport, HttpTransport):
        shown: dict[str, Any] = {
            "type": "streamable_http",
            "url": transport.url,
            "bearer_token_env_var": transport.bearer_token_env_var,
            "http_headers": _dict_or_none(transport.http_headers),
            "env_http_headers": _dict_or_none(transport.env_http_headers),
            "http_headers_helper": None,
        }
    else:
        shown = {
            "type": "stdio",
            "command": transport.command,
            "args": list(transport.args),
            "env": _dict_or_none(transport.env),
            "env_vars": list(transport.env_vars),
            "cwd": transport.cwd,
        }
    return {
        "name": server.name,
        "enabled": server.enabled,
        "disabled_reason": server.disabled_reason,
        "transport": shown,
        "startup_timeout_sec": server.startup_timeout_set,
        "tool_timeout_sec": server.tool_timeout_set,
    }


def _stdio_row(server: McpServerConfig) -> list[str]:
    transport = server.transport
    assert not isinstance(transport, HttpTransport)
    return [
        server.name,
        transport.command,
        " ".join(transport.args) or "-",
        _env_display(server),
        transport.cwd or "-",
        _status(server),
        "Unsupported",
    ]


def _http_row(server: McpServerConfig) -> list[str]:
    transport = server.transport
    assert isinstance(transport, HttpTransport)
    auth = "Bearer token" if transport.bearer_token_env_var else "Unsupported"
    token = transport.bearer_token_env_var or "-"
    return [server.name, transport.url, token, _status(server), auth]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [_line(headers, widths)] + [_line(row, widths) for row in rows]
    return "\n".join(lines)


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))


def _status(server: McpServerConfig) -> str:
    if server.enabled:
        return "enabled"
    return f"disabled: {server.disabled_reason}" if server.disabled_reason else "disabled"


def _auth(server: McpServerConfig) -> str:
    transport = server.transport
    bearer = isinstance(transport, HttpTransport) and transport.bearer_token_env_var
    return "bearer_token" if bearer else "unsupported"


def _env_display(server: McpServerConfig) -> str:
    transport = server.transport
    assert not isinstance(transport, HttpTransport)
    parts = [f"{key}=*****" for key in sorted(transport.env or {})]
    parts += [f"{name}=*****" for name in transport.env_vars]
    return ", ".join(parts) or "-"


def _pairs(values: Any, *, masked: bool) -> str:
    if not values:
        return "-"
    return ", ".join(
        f"{key}=*****" if masked else f"{key}={value}" for key, value in sorted(values.items())
    )


def _tool_list(tools: tuple[str, ...]) -> str:
    return ", ".join(tools) if tools else "[]"


def _list_or_none(values: tuple[str, ...] | None) -> list[str] | None:
    return list(values) if values is not None else None


def _dict_or_none(values: Any) -> dict[str, str] | None:
    return dict(values) if values is not None else None
