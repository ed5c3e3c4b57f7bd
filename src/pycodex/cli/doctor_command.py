"""`pycodex doctor [--json] [--skip-live]`: is this machine ready to run the agent?

Checks, in order, each reported as ok, warn or fail with the reason and the fix: the config file,
`.env`, the selected provider and wire API, the API key, proxy variables, DNS, TCP/TLS
reachability of the base URL, a live one-request round trip (unless `--skip-live`), the
sandbox mechanism, and each configured MCP server (does it start, how many tools it offers).
A check that depends on a failed one is reported as not run.

Human output is one line per check on stdout; `--json` prints one JSON list of
`{name, status, detail, fix}`. Exit code 1 when a check failed (something a run needs is
broken), 0 otherwise; 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from typing import NoReturn

from pycodex.cli import doctor_checks as checks
from pycodex.cli.doctor_checks import Check
from pycodex.cli.exec_args import ExecArgs
from pycodex.cli.local_provider import local_overrides, wants_served_model
from pycodex.config import (
    Config,
    ConfigError,
    ConfigOverrides,
    find_codex_home,
    parse_cli_override,
    resolve_config,
)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see `pycodex doctor --help`)")


def _parser() -> _Parser:
    p = _Parser(prog="pycodex doctor", description="Check that pycodex can run here.")
    p.add_argument("--json", action="store_true", help="print the checks as one JSON list")
    p.add_argument("--skip-live", action="store_true", help="send no request to the model")
    p.add_argument("-m", "--model")
    p.add_argument("-p", "--profile")
    p.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--oss", action="store_true")
    p.add_argument("--local-provider", metavar="NAME")
    p.add_argument("--vllm-endpoint", metavar="URL")
    return p


def run_doctor_command(argv: list[str]) -> int:
    try:
        ns = _parser().parse_args(argv)
        local = ExecArgs(
            prompt=None,
            model=ns.model,
            oss=ns.oss,
            local_provider=ns.local_provider,
            vllm_endpoint=ns.vllm_endpoint,
        )
        overrides = [*local_overrides(local, os.environ)]
        overrides += [parse_cli_override(raw) for raw in ns.config]
    except (_UsageError, ConfigError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    found = asyncio.run(
        _run_checks(
            ConfigOverrides(model=ns.model, profile=ns.profile, cli_overrides=overrides),
            os.environ,
            live=not ns.skip_live,
            discover_model=wants_served_model(local),
        )
    )
    _print(found, as_json=ns.json)
    return 1 if any(check.status == "fail" for check in found) else 0


async def _run_checks(
    overrides: ConfigOverrides, env: Mapping[str, str], *, live: bool, discover_model: bool
) -> list[Check]:
    config, config_check = _config_check(overrides, env)
    found = [config_check, _dotenv(env)]
    if config is None:
        return found
    if config.model_provider.managed:
        return found + await _managed_checks(config, overrides.model, live=live)
    provider = config.model_provider
    at_provider = len(found)
    found += [
        checks.provider_check(config),
        checks.api_key_check(config),
        checks.proxy_check(config.env, provider.base_url),
    ]
    dns = await checks.dns_check(provider.base_url)
    found.append(dns)
    connect = None
    if dns.status != "fail":
        connect = await checks.connect_check(
            provider.base_url, proxied=checks.uses_proxy(config.env)
        )
        found.append(connect)
    if discover_model and connect is not None and connect.status == "ok":
        # Name the model a run would really use: the one the server lists.
        config = await checks.served_model_config(config)
        found[at_provider] = checks.provider_check(config)
        discover_model = False
    if live:
        blocked = [c.name for c in found if c.status == "fail"]
        if blocked:
            found.append(Check("live", "warn", f"not run: {', '.join(blocked)} failed"))
        else:
            found.append(await checks.live_check(config, discover_model=discover_model))
    found.append(checks.sandbox_check(config))
    if config.mcp_servers:
        from pycodex.cli.doctor_mcp import mcp_checks

        found += await mcp_checks(config)
    return found


async def _managed_checks(config: Config, model: str | None, *, live: bool) -> list[Check]:
    """pycodex's own local server: what is installed and running; a stopped server is fine
    (the next run starts it), so the network checks wait for one that runs."""
    from pycodex.cli.local_checks import local_check

    local, config = local_check(config, model)
    found = [local, checks.provider_check(config), checks.api_key_check(config)]
    if local.status != "ok":
        reason = "not run: the local server is not running (`pycodex local start` starts it)"
        return [*found, Check("live", "warn", reason), checks.sandbox_check(config)]
    found.append(await checks.connect_check(config.model_provider.base_url, proxied=False))
    if live:
        found.append(await checks.live_check(config, discover_model=False))
    found.append(checks.sandbox_check(config))
    return found


def _config_check(
    overrides: ConfigOverrides, env: Mapping[str, str]
) -> tuple[Config | None, Check]:
    try:
        config = resolve_config(overrides, env=env)
    except ConfigError as err:
        return None, Check("config", "fail", str(err), "fix the file and key named above")
    path = config.config_file
    detail = f"{path} found and parsed" if path.is_file() else f"no {path}: defaults apply"
    if config.warnings:
        more = f" (+{len(config.warnings) - 1} more)" if len(config.warnings) > 1 else ""
        return config, Check("config", "warn", f"{detail}; {config.warnings[0]}{more}")
    return config, Check("config", "ok", detail)


def _dotenv(env: Mapping[str, str]) -> Check:
    try:
        home = find_codex_home(env)
    except ConfigError as err:
        return Check("dotenv", "fail", str(err), "point CODEX_HOME at a directory")
    return checks.dotenv_check(home / ".env")


def _print(found: list[Check], *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps([check.as_json() for check in found], indent=2) + "\n")
        return
    width = max(len(check.name) for check in found)
    for check in found:
        line = f"{check.status:<4}  {check.name:<{width}}  {check.detail}"
        if check.fix:
            line += f"  → fix: {check.fix}"
        sys.stdout.write(line + "\n")
