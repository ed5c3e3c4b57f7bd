"""`pycodex doctor`'s MCP checks: one line per configured server, saying whether it starts and
how many tools it offers (or why it does not start). The servers are started as a session
would start them, all at once, then stopped."""

from __future__ import annotations

from pycodex.cli.doctor_checks import Check, Status
from pycodex.config import Config, ConfigError


async def mcp_checks(config: Config) -> list[Check]:
    if not config.mcp_servers:
        return []
    from pycodex.mcp.config import parse_servers
    from pycodex.mcp.manager import McpConnectionManager

    try:
        servers = parse_servers(config.mcp_servers)
    except ConfigError as err:
        return [Check("mcp", "fail", str(err), "fix the [mcp_servers] table named above")]
    enabled = [server for server in servers if server.enabled]
    manager = McpConnectionManager(enabled, cwd=config.cwd, env=config.env)
    try:
        startup = await manager.start()
        tools = {
            c.name: sum(1 for t in c.tools if c.config.offers(t.name))
            for c in manager.connections()
        }
    finally:
        await manager.aclose()
    failures = {failure.server: failure for failure in startup.failures}
    found = []
    for server in servers:
        name = f"mcp {server.name}"
        if not server.enabled:
            found.append(Check(name, "ok", "disabled (enabled = false)"))
        elif server.name in failures:
            status: Status = "fail" if server.required else "warn"
            detail = f"does not start: {failures[server.name].message}"
            fix = "check the server's command, url and environment in [mcp_servers]"
            found.append(Check(name, status, detail, fix))
        else:
            count = tools.get(server.name, 0)
            found.append(
                Check(name, "ok", f"starts, offers {count} tool{'s' if count != 1 else ''}")
            )
    return found
