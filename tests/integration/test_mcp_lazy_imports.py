"""Start-up: `pycodex exec` without MCP servers loads nothing of MCP (the SDK alone takes a second
or more to import); with a server configured, it does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import sse_builders as sse
from support.cli import cli_env, write_config
from support.fake_server import FakeModelServer
from support.mcp_servers import probe_table

PROBE = """
import json, sys
from pycodex.cli.main import main
code = main(["exec", "--skip-git-repo-check", "--json", "go"])
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""
MCP_MODULES = ("mcp", "mcp_types", "anyio", "tomlkit", "pycodex.mcp", "httpx", "httpx2")


def _modules_of_one_exec(home: Path, work: Path, tmp_path: Path) -> list[str]:
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(out)],
        cwd=work,
        env=cli_env(home),
        check=True,
        timeout=120,
        capture_output=True,
    )
    report = json.loads(out.read_text())
    assert report["code"] == 0
    return list(report["modules"])


def _loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [name for name in modules if name.split(".")[0] in prefixes or name.startswith(prefixes)]


def test_exec_without_mcp_servers_imports_no_mcp_machinery(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"))
    modules = _modules_of_one_exec(home, work, tmp_path)
    assert _loaded(modules, MCP_MODULES) == []


def test_exec_with_a_server_loads_the_sdk(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    write_config(home, fake_server, probe_table())
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("hi"))
    modules = _modules_of_one_exec(home, work, tmp_path)
    assert {"mcp", "pycodex.mcp.connection", "pycodex.mcp.resources"} <= set(modules)
    assert "tomlkit" not in modules  # only `pycodex mcp add/remove` edit config.toml
