"""`[mcp_servers.<name>]` tables, checked into typed records.

A table with `command` is a stdio server, one with `url` a streamable HTTP server. A value of the
wrong type is a `ConfigError` naming `mcp_servers.<name>.<key>`; keys we do not use are ignored.
This module needs no SDK: `pycodex mcp list` and `doctor` read configs through it too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pycodex._records import dataclass, field
from pycodex.config.errors import ConfigError

DEFAULT_STARTUP_TIMEOUT_S = 10.0
DEFAULT_TOOL_TIMEOUT_S = 60.0
ApprovalMode = Literal["auto", "prompt", "approve"]
_APPROVAL_MODES: tuple[str, ...] = ("auto", "prompt", "approve", "writes")
SERVER_NAME_CHARS = "letters, numbers, '-', '_', ':', '@', '/', '.'"
_SERVER_NAME = re.compile(r"^[A-Za-z0-9_\-:@/.]+$")


@dataclass(frozen=True, slots=True)
class StdioTransport:
    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] | None = None
    env_vars: tuple[str, ...] = ()
    cwd: str | None = None


@dataclass(frozen=True, slots=True)
class HttpTransport:
    url: str
    bearer_token_env_var: str | None = None
    http_headers: Mapping[str, str] | None = None
    env_http_headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One configured server; `name` is the table's key, exactly as written."""

    name: str
    transport: StdioTransport | HttpTransport
    enabled: bool = True
    disabled_reason: str | None = None
    required: bool = False
    startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S
    # None when the table does not set it (the listing commands show `null`).
    startup_timeout_set: float | None = None
    tool_timeout_s: float = DEFAULT_TOOL_TIMEOUT_S
    tool_timeout_set: float | None = None
    enabled_tools: tuple[str, ...] | None = None
    disabled_tools: tuple[str, ...] | None = None
    default_tools_approval_mode: ApprovalMode | None = None
    # `[mcp_servers.<name>.tools.<tool>] approval_mode = ...`, by the server's tool name.
    tool_approval_modes: Mapping[str, ApprovalMode] = field(default_factory=dict)

    def offers(self, tool: str) -> bool:
        """`enabled_tools` is an allow-list, then `disabled_tools` a deny-list."""
        if self.enabled_tools is not None and tool not in self.enabled_tools:
            return False
        return self.disabled_tools is None or tool not in self.disabled_tools

    def approval_mode(self, tool: str) -> ApprovalMode:
        return self.tool_approval_modes.get(tool) or self.default_tools_approval_mode or "auto"


def valid_server_name(name: str) -> bool:
    return bool(_SERVER_NAME.match(name))


def enabled_servers(raw: Mapping[str, Any]) -> list[McpServerConfig]:
    """The servers a session starts, in name order; raises `ConfigError` on a bad table."""
    return [server for server in parse_servers(raw) if server.enabled]


def parse_servers(raw: Mapping[str, Any]) -> list[McpServerConfig]:
    return [parse_server(name, raw[name]) for name in sorted(raw)]


def parse_server(name: str, table: Any) -> McpServerConfig:
    where = _Where(name)
    if not isinstance(table, Mapping):
        raise where.error("", "expected a table")
    enabled = where.boolean(table, "enabled", True)
    startup = where.seconds(table, "startup_timeout_sec")
    if startup is None and table.get("startup_timeout_ms") is not None:
        millis = where.seconds(table, "startup_timeout_ms")
        startup = millis / 1000 if millis is not None else None
    tool_timeout = where.seconds(table, "tool_timeout_sec")
    mode = where.approval_mode(table, "default_tools_approval_mode")
    return McpServerConfig(
        name=name,
        transport=_transport(where, table),
        enabled=enabled,
        disabled_reason=where.string(table, "disabled_reason"),
        required=where.boolean(table, "required", False),
        startup_timeout_s=startup if startup is not None else DEFAULT_STARTUP_TIMEOUT_S,
        startup_timeout_set=startup,
        tool_timeout_s=tool_timeout if tool_timeout is not None else DEFAULT_TOOL_TIMEOUT_S,
        tool_timeout_set=tool_timeout,
        enabled_tools=where.strings_or_none(table, "enabled_tools"),
        disabled_tools=where.strings_or_none(table, "disabled_tools"),
        default_tools_approval_mode=mode,
        tool_approval_modes=_tool_modes(where, table),
    )


def _transport(where: _Where, table: Mapping[str, Any]) -> StdioTransport | HttpTransport:
    has_command, has_url = table.get("command") is not None, table.get("url") is not None
    if has_command and has_url:
        raise where.error("", "set either `command` (stdio) or `url` (streamable HTTP), not both")
    if has_url:
        return HttpTransport(
            url=where.required_string(table, "url"),
            bearer_token_env_var=where.string(table, "bearer_token_env_var"),
            http_headers=where.string_map(table, "http_headers"),
            env_http_headers=where.string_map(table, "env_http_headers"),
        )
    if not has_command:
        raise where.error("", "needs `command` (a stdio server) or `url` (a streamable HTTP one)")
    return StdioTransport(
        command=where.required_string(table, "command"),
        args=where.strings_or_none(table, "args") or (),
        env=where.string_map(table, "env"),
        env_vars=where.strings_or_none(table, "env_vars") or (),
        cwd=where.string(table, "cwd"),
    )


def _tool_modes(where: _Where, table: Mapping[str, Any]) -> dict[str, ApprovalMode]:
    tools = table.get("tools")
    if tools is None:
        return {}
    if not isinstance(tools, Mapping):
        raise where.error("tools", "expected a table of tool names")
    modes: dict[str, ApprovalMode] = {}
    for tool, settings in tools.items():
        if not isinstance(settings, Mapping):
            raise where.error(f"tools.{tool}", "expected a table")
        mode = _Where(where.name, f"tools.{tool}.").approval_mode(settings, "approval_mode")
        if mode is not None:
            modes[str(tool)] = mode
    return modes


@dataclass(frozen=True, slots=True)
class _Where:
    """Reads one server table's values, raising errors that name the key."""

    name: str
    prefix: str = ""

    def error(self, key: str, message: str) -> ConfigError:
        dotted = f"mcp_servers.{self.name}" + (f".{self.prefix}{key}" if key else "")
        return ConfigError(message, key=dotted)

    def boolean(self, table: Mapping[str, Any], key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def string(self, table: Mapping[str, Any], key: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(key, f"expected a string, got {value!r}")
        return value

    def required_string(self, table: Mapping[str, Any], key: str) -> str:
        value = self.string(table, key)
        if not value:
            raise self.error(key, "must not be empty")
        return value

    def seconds(self, table: Mapping[str, Any], key: str) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.error(key, f"expected a non-negative number, got {value!r}")
        return float(value)

    def strings_or_none(self, table: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, "expected an array of strings")
        return tuple(value)

    def string_map(self, table: Mapping[str, Any], key: str) -> dict[str, str] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping) or not all(
            isinstance(item, str) for item in value.values()
        ):
            raise self.error(key, "expected a table of strings")
        return {str(name): item for name, item in value.items()}

    def approval_mode(self, table: Mapping[str, Any], key: str) -> ApprovalMode | None:
        value = table.get(key)
        if value is None:
            return None
        if value not in _APPROVAL_MODES:
            raise self.error(key, f"expected one of auto, prompt, approve; got {value!r}")
        # `writes` (ask only before writing tools) asks like `auto` here.
        mode: ApprovalMode = "auto" if value == "writes" else value
        return mode
