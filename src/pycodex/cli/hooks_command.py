"""`pycodex hooks`: list the configured hooks and trust, untrust, disable or enable them.

pycodex hooks [list] [--json]               every hook: number, event, matcher, status, source
pycodex hooks trust (NUMBER|KEY)... | --all [--yes]
pycodex hooks untrust|disable|enable (NUMBER|KEY)... | --all

`trust` shows each command before it is trusted and asks (unless `--yes`; without a terminal
`--yes` is required). What it writes is the `[hooks.state]` entry upstream Codex reads, so a hook
trusted here is trusted by both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from pycodex.config import ConfigError, ConfigOverrides, resolve_config

if TYPE_CHECKING:
    from pycodex.config import Config
    from pycodex.hooks.discovery import HookDiscovery, HookEntry

ACTIONS = ("list", "trust", "untrust", "disable", "enable")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see `pycodex hooks --help`)")


def _parser() -> _Parser:
    p = _Parser(
        prog="pycodex hooks",
        description="List the hooks of $CODEX_HOME/config.toml and hooks.json; trust, untrust, "
        "disable or enable them by number (as listed) or key.",
    )
    p.add_argument("action", nargs="?", default="list", choices=ACTIONS)
    p.add_argument("hooks", nargs="*", metavar="HOOK", help="a number from the list, or a key")
    p.add_argument("--all", action="store_true", help="every listed hook")
    p.add_argument("--yes", "-y", action="store_true", help="trust without asking")
    p.add_argument("--json", action="store_true", help="list as JSON")
    p.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE")
    return p


def run_hooks_command(argv: list[str]) -> int:
    from pycodex.config import parse_cli_override
    from pycodex.config.edit import ConfigEditError

    try:
        args = _parser().parse_args(argv)
        overrides = [parse_cli_override(raw) for raw in args.config]
        config = resolve_config(ConfigOverrides(cli_overrides=overrides), env=os.environ)
        found = _discover(config)
        if args.action == "list":
            return _list(config, found, as_json=args.json)
        chosen = _select(found, args.hooks, every=args.all)
        return _change(config, args.action, chosen, assume_yes=args.yes)
    except (_UsageError, ConfigError, ConfigEditError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2


def _discover(config: Config) -> HookDiscovery:
    from pycodex.hooks.discovery import discover_hooks

    found = discover_hooks(config.codex_home, config.hooks)
    for warning in found.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    return found


def _status(entry: HookEntry) -> str:
    return entry.trust if entry.enabled else f"disabled, {entry.trust}"


def _list(config: Config, found: HookDiscovery, *, as_json: bool) -> int:
    if as_json:
        rows = [
            {
                "number": number, "key": e.key, "event": e.event, "matcher": e.matcher,
                "command": e.command, "timeout": e.timeout_s, "async": e.is_async,
                "statusMessage": e.status_message, "source": str(e.source_path),
                "enabled": e.enabled, "trust": e.trust, "currentHash": e.current_hash,
            }
            for number, e in enumerate(found.entries, 1)
        ]  # fmt: skip
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not found.entries:
        home = config.codex_home
        sys.stdout.write(f"no hooks in {home / 'config.toml'} or {home / 'hooks.json'}\n")
        return 0
    for number, entry in enumerate(found.entries, 1):
        matcher = f"  matcher {entry.matcher!r}" if entry.matcher is not None else ""
        sys.stdout.write(
            f"{number:>3}  {entry.event}{matcher}  [{_status(entry)}]  "
            f"{entry.source_path.name}, timeout {entry.timeout_s}s\n"
            f"     command: {entry.command}\n     key:     {entry.key}\n"
        )
    if not sys.stdout.isatty() or not found.untrusted:
        return 0
    sys.stdout.write("\nTrust one with `pycodex hooks trust NUMBER` (or --all).\n")
    return 0


def _select(found: HookDiscovery, wanted: list[str], *, every: bool) -> list[HookEntry]:
    if every:
        if wanted:
            raise _UsageError("give hooks or --all, not both")
        return list(found.entries)
    if not wanted:
        raise _UsageError("name the hooks (a number from `pycodex hooks`, or a key) or --all")
    by_key = {entry.key: entry for entry in found.entries}
    chosen: list[HookEntry] = []
    for name in wanted:
        if name.isdigit() and 1 <= int(name) <= len(found.entries):
            chosen.append(found.entries[int(name) - 1])
        elif name in by_key:
            chosen.append(by_key[name])
        else:
            raise _UsageError(f"no hook {name!r}; `pycodex hooks` lists them")
    return chosen


def _change(config: Config, action: str, chosen: list[HookEntry], *, assume_yes: bool) -> int:
    from pycodex.hooks.trust_store import StateChange, write_states

    changes: dict[str, StateChange] = {}
    for entry in chosen:
        if action == "trust":
            if entry.trust == "trusted" or not _confirm(entry, assume_yes):
                continue
            changes[entry.key] = StateChange(trusted_hash=entry.current_hash)
        elif action == "untrust":
            changes[entry.key] = StateChange(trusted_hash=None)
        else:
            changes[entry.key] = StateChange(enabled=None if action == "enable" else False)
    if not changes:
        sys.stdout.write("nothing changed\n")
        return 0
    write_states(config.config_file, changes)
    done = {"trust": "trusted", "untrust": "untrusted", "disable": "disabled", "enable": "enabled"}
    sys.stdout.write(f"{done[action]} {len(changes)} hook(s) in {config.config_file}\n")
    return 0


def _confirm(entry: HookEntry, assume_yes: bool) -> bool:
    """Show the command; ask unless `--yes`. Without a terminal, `--yes` is required."""
    matcher = f" (matcher {entry.matcher!r})" if entry.matcher is not None else ""
    sys.stdout.write(f"{entry.event}{matcher} from {entry.source_path}:\n    {entry.command}\n")
    if assume_yes:
        return True
    if sys.stdin is None or not sys.stdin.isatty():
        raise _UsageError("trusting a hook needs confirmation: run on a terminal or pass --yes")
    sys.stdout.write("Trust this hook to run on your machine? [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")
