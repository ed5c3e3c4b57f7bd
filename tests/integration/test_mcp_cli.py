"""`pycodex mcp add | list | get | remove`: upstream's outputs and exit codes, and config.toml
edited without losing the user's comments."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from support.cli import CliResult, cli_env, run_cli

USER_CONFIG = """# my settings, hand-written
model = "m"   # the model I like

[mcp_servers.kept]   # this one stays
command = "kept-server"
"""


def mcp(home: Path, work: Path, *args: str) -> CliResult:
    return run_cli(["mcp", *args], codex_home=home, cwd=work, env=cli_env(home))


def test_add_list_get_remove_round_trip(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path
    home.mkdir()
    config = home / "config.toml"
    config.write_text(USER_CONFIG)

    added = mcp(home, work, "add", "probe", "--env", "PROBE_TOKEN=tok-1", "--", "python3",
                "server.py", "--flag")  # fmt: skip
    assert (added.returncode, added.stdout) == (0, "Added global MCP server 'probe'.\n")
    web = mcp(home, work, "add", "web", "--url", "http://127.0.0.1:9/mcp",
              "--bearer-token-env-var", "WEB_TOKEN")  # fmt: skip
    assert (web.returncode, web.stdout) == (0, "Added global MCP server 'web'.\n")

    text = config.read_text()
    assert text.startswith(USER_CONFIG)  # the user's comments and layout are untouched
    parsed = tomllib.loads(text)["mcp_servers"]
    assert parsed["probe"] == {
        "command": "python3",
        "args": ["server.py", "--flag"],
        "env": {"PROBE_TOKEN": "tok-1"},
    }
    assert "[mcp_servers.probe.env]" in text
    assert parsed["web"] == {"url": "http://127.0.0.1:9/mcp", "bearer_token_env_var": "WEB_TOKEN"}

    listed = mcp(home, work, "list")
    assert listed.returncode == 0
    assert listed.stdout == (
        "Name   Command      Args              Env                Cwd  Status   Auth       \n"
        "kept   kept-server  -                 -                  -    enabled  Unsupported\n"
        "probe  python3      server.py --flag  PROBE_TOKEN=*****  -    enabled  Unsupported\n"
        "\n"
        "Name  Url                     Bearer Token Env Var  Status   Auth        \n"
        "web   http://127.0.0.1:9/mcp  WEB_TOKEN             enabled  Bearer token\n"
    )
    entries = json.loads(mcp(home, work, "list", "--json").stdout)
    assert [e["name"] for e in entries] == ["kept", "probe", "web"]
    assert entries[1] == {
        "name": "probe",
        "enabled": True,
        "disabled_reason": None,
        "transport": {
            "type": "stdio",
            "command": "python3",
            "args": ["server.py", "--flag"],
            "env": {"PROBE_TOKEN": "tok-1"},
            "env_vars": [],
            "cwd": None,
        },
        "startup_timeout_sec": None,
        "tool_timeout_sec": None,
        "auth_status": "unsupported",
    }
    assert entries[2]["transport"] == {
        "type": "streamable_http",
        "url": "http://127.0.0.1:9/mcp",
        "bearer_token_env_var": "WEB_TOKEN",
        "http_headers": None,
        "env_http_headers": None,
        "http_headers_helper": None,
    }
    assert entries[2]["auth_status"] == "bearer_token"

    got = mcp(home, work, "get", "probe")
    assert got.stdout == (
        "probe\n  enabled: true\n  transport: stdio\n  command: python3\n"
        "  args: server.py --flag\n  cwd: -\n  env: PROBE_TOKEN=*****\n"
        "  remove: pycodex mcp remove probe\n"
    )
    got_json = json.loads(mcp(home, work, "get", "probe", "--json").stdout)
    assert list(got_json) == [
        "name", "enabled", "disabled_reason", "transport", "enabled_tools", "disabled_tools",
        "startup_timeout_sec", "tool_timeout_sec",
    ]  # fmt: skip
    assert (got_json["enabled_tools"], got_json["disabled_tools"]) == (None, None)

    missing = mcp(home, work, "get", "nope")
    assert (missing.returncode, missing.stderr) == (1, "Error: No MCP server named 'nope' found.\n")

    removed = mcp(home, work, "remove", "web")
    assert (removed.returncode, removed.stdout) == (0, "Removed global MCP server 'web'.\n")
    again = mcp(home, work, "remove", "web")
    assert (again.returncode, again.stdout) == (0, "No MCP server named 'web' found.\n")
    assert config.read_text().startswith(USER_CONFIG)
    assert set(tomllib.loads(config.read_text())["mcp_servers"]) == {"kept", "probe"}


def test_bad_names_and_command_lines(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path
    home.mkdir()
    bad = mcp(home, work, "add", "bad name", "--", "x")
    assert bad.returncode == 1
    assert bad.stderr == (
        "Error: invalid server name 'bad name' (use letters, numbers, '-', '_', ':', '@', "
        "'/', '.')\n"
    )
    env_with_url = mcp(home, work, "add", "web", "--url", "http://h/mcp", "--env", "A=1")
    assert (env_with_url.returncode, env_with_url.stderr) == (1, "Error: command is required\n")
    neither = mcp(home, work, "add", "web")
    assert neither.returncode == 2 and neither.stderr.startswith("error: ")
    assert not (home / "config.toml").exists()  # nothing was written
    empty = mcp(home, work, "list")
    assert empty.stdout == (
        "No MCP servers configured yet. Try `pycodex mcp add my-tool -- my-command`.\n"
    )
    assert mcp(home, work, "list", "--json").stdout == "[]\n"
    ok_name = mcp(home, work, "add", "my-srv.v2:x@y/z", "--", "srv")
    assert ok_name.returncode == 0, ok_name.stderr
    assert tomllib.loads((home / "config.toml").read_text())["mcp_servers"] == {
        "my-srv.v2:x@y/z": {"command": "srv"}
    }
