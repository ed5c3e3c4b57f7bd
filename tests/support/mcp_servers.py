"""Config tables and helpers for tests that run real MCP servers (all on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROBE = Path(__file__).resolve().parent / "mcp_probe_server.py"
NPM_DIR = Path(__file__).resolve().parent / "mcp_npm"
EVERYTHING = NPM_DIR / "node_modules" / "@modelcontextprotocol" / "server-everything"
# Python-SDK servers take a second or more just to import on a loaded machine.
GENEROUS_STARTUP_S = 60


def toml_string(value: str) -> str:
    return json.dumps(value)


def probe_table(name: str = "probe", *args: str, **settings: Any) -> str:
    """`[mcp_servers.<name>]` running the probe server over stdio, plus `settings`."""
    argv = [str(PROBE), "stdio", *args]
    lines = [
        f"[mcp_servers.{toml_string(name)}]",
        f"command = {toml_string(sys.executable)}",
        f"args = {json.dumps(argv)}",
    ]
    settings.setdefault("startup_timeout_sec", GENEROUS_STARTUP_S)
    lines += [f"{key} = {_toml(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def table(name: str, **settings: Any) -> str:
    lines = [f"[mcp_servers.{toml_string(name)}]"]
    lines += [f"{key} = {_toml(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    return json.dumps(value)


def logged_calls(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone: its parent did not reap it yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@contextmanager
def http_probe(token: str | None = None) -> Iterator[str]:
    """The probe server over streamable HTTP on 127.0.0.1; yields its URL."""
    argv = [sys.executable, str(PROBE), "http", *(["--token", token] if token else [])]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server listens (or exits)
        assert line.startswith("PORT "), f"the HTTP probe server did not start: {line!r}"
        yield f"http://127.0.0.1:{int(line.split()[1])}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
