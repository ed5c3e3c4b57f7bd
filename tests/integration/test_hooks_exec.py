"""Hooks end to end: `pycodex exec --json` against the scripted model server, with real hook
scripts (tests/support/hooks.py) configured in config.toml and trusted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support import sse_builders as sse
from support.cli import CliResult, run_cli
from support.fake_server import FakeModelServer
from support.hooks import HookKit, hook_group, trust_all

BASE = ["exec", "--skip-git-repo-check", "--json"]
RESPONSES = "/v1/responses"


@pytest.fixture
def kit(tmp_path: Path) -> HookKit:
    return HookKit(tmp_path / "hooks")


def configure(home: Path, *groups: str, trusted: bool = True) -> None:
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write("\n" + "\n".join(groups))
    if trusted:
        trust_all(home)


def shell_call(command: str, call_id: str = "c1") -> dict[str, Any]:
    args = json.dumps({"cmd": command, "login": False})
    return sse.function_call("exec_command", args, call_id=call_id)


def outputs(request: Any) -> dict[str, str]:
    return {
        item["call_id"]: item["output"]
        for item in request.json()["input"]
        if item.get("type", "").endswith("_call_output")
    }


def items_of(result: CliResult, kind: str) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in result.events()
        if e["type"] == "item.completed" and e["item"]["type"] == kind
    ]


def test_pre_tool_use_deny_by_json_stops_the_command_and_tells_the_model(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    deny = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": "no touching",
        }
    }
    configure(home, hook_group("PreToolUse", kit.command("pre", stdout=deny), matcher="Bash"))
    marker = work / "made"
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call(f"touch {marker}")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = run_cli([*BASE, "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert outputs(fake_server.requests[1])["c1"] == (
        f"Command blocked by PreToolUse hook: no touching. Command: touch {marker}"
    )
    assert items_of(result, "command_execution") == []
    (payload,) = kit.payloads("pre")
    assert payload["tool_name"] == "Bash"
    assert payload["tool_input"] == {"command": f"touch {marker}"}
