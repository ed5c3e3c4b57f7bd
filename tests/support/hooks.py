"""Real hook scripts and trusted hook configuration for the hook tests.

`HOOK_SCRIPT` is one small program every test hook runs as: it appends the JSON it read on
stdin to a log file (one line per run) and then does what its arguments say:

    python3 hook.py LOG [--stdout TEXT] [--stderr TEXT] [--exit N] [--sleep S] [--touch FILE]
                        [--stop-block REASON]

(`--stop-block` answers a Stop hook with a block, unless `stop_hook_active` is already true.)

`trust_all(codex_home)` writes `[hooks.state]` entries for every configured hook, with the
hashes pycodex computes (the unit tests pin those hashes to hand-computed values).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

HOOK_SCRIPT = """\
import argparse, json, pathlib, sys, time
parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("--stdout", default="")
parser.add_argument("--stderr", default="")
parser.add_argument("--exit", type=int, default=0)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--touch", default="")
parser.add_argument("--stop-block", default="")
args = parser.parse_args()
payload = sys.stdin.read()
with open(args.log, "a", encoding="utf-8") as log:
    log.write(json.dumps(json.loads(payload)) + "\\n")
if args.stop_block and not json.loads(payload)["stop_hook_active"]:
    args.stdout = json.dumps({"decision": "block", "reason": args.stop_block})
if args.touch:
    pathlib.Path(args.touch).write_text("ran", encoding="utf-8")
time.sleep(args.sleep)
sys.stdout.write(args.stdout)
sys.stderr.write(args.stderr)
sys.exit(args.exit)
"""


class HookKit:
    """A directory with the hook script and one log per name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.script = root / "hook.py"
        self.script.write_text(HOOK_SCRIPT, encoding="utf-8")

    def log(self, name: str) -> Path:
        return self.root / f"{name}.jsonl"

    def command(self, name: str, **options: Any) -> str:
        """The shell command of a hook that logs to `name` and behaves as `options` say."""
        argv = [sys.executable, str(self.script), str(self.log(name))]
        for key, value in options.items():
            if not isinstance(value, str):
                value = json.dumps(value) if isinstance(value, dict) else str(value)
            argv += [f"--{key.replace('_', '-')}", value]
        return shlex.join(argv)

    def shell_command(self, name: str) -> str:
        """A hook that only records its payload, in the shell alone (for SessionEnd, whose
        timeout is at most 3 s, even on a loaded machine)."""
        log = shlex.quote(str(self.log(name)))
        return f"cat >> {log}; echo >> {log}"

    def payloads(self, name: str) -> list[dict[str, Any]]:
        path = self.log(name)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def hook_group(event: str, command: str, matcher: str | None = None, **extra: Any) -> str:
    """One `[[hooks.<event>]]` group with one command handler, as TOML."""
    lines = [f"[[hooks.{event}]]"]
    if matcher is not None:
        lines.append(f"matcher = {json.dumps(matcher)}")
    lines += [f"[[hooks.{event}.hooks]]", 'type = "command"', f"command = {json.dumps(command)}"]
    for key, value in extra.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def trust_all(codex_home: Path) -> None:
    """Append a trusted `[hooks.state]` entry for every hook of config.toml and hooks.json."""
    import tomllib

    from pycodex.hooks.discovery import discover_hooks

    config = codex_home / "config.toml"
    table = tomllib.loads(config.read_text(encoding="utf-8")).get("hooks", {})
    found = discover_hooks(codex_home, table)
    lines = [
        f"[hooks.state.{json.dumps(entry.key)}]\ntrusted_hash = {json.dumps(entry.current_hash)}"
        for entry in found.entries
    ]
    with config.open("a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(lines) + "\n")
