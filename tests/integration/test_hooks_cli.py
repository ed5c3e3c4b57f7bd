"""`pycodex hooks`: list, trust after showing the command, untrust, disable; config.toml keeps
the user's comments and formatting, and a hook trusted here then runs under exec."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from support import sse_builders as sse
from support.cli import cli_env, run_cli
from support.fake_server import FakeModelServer
from support.hooks import HookKit, hook_group

USER_TEXT = """\
# my settings, with comments that must survive
model = "test-model"   # trailing comment
"""


def write_home(home: Path, server: FakeModelServer, kit: HookKit) -> str:
    from support.cli import write_config

    write_config(home, server)
    text = USER_TEXT + (home / "config.toml").read_text().replace('model = "test-model"\n', "", 1)
    text += "\n" + hook_group("PreToolUse", kit.command("pre"), matcher="Bash")
    text += "\n" + hook_group("Stop", "echo stop >/dev/null", timeout=30)
    (home / "config.toml").write_text(text)
    return text


def test_list_then_trust_one_after_showing_its_command(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    kit = HookKit(tmp_path / "hooks")
    original = write_home(home, fake_server, kit)
    listed = run_cli(["hooks"], codex_home=home, cwd=work)
    assert listed.returncode == 0, listed.stderr
    config = home / "config.toml"
    assert "  1  PreToolUse  matcher 'Bash'  [untrusted]  config.toml, timeout 600s" in (
        listed.stdout
    )
    assert "  2  Stop  [untrusted]  config.toml, timeout 30s" in listed.stdout
    assert f"key:     {config}:stop:0:0" in listed.stdout

    refused = run_cli(["hooks", "trust", "1"], codex_home=home, cwd=work)
    assert refused.returncode == 2
    assert "pass --yes" in refused.stderr
    assert config.read_text() == original

    trusted = run_cli(["hooks", "trust", "1", "--yes"], codex_home=home, cwd=work)
    assert trusted.returncode == 0, trusted.stderr
    assert f"PreToolUse (matcher 'Bash') from {config}:\n    {kit.command('pre')}\n" in (
        trusted.stdout
    )
    text = config.read_text()
    assert text.startswith(original)  # everything the user wrote, as written
    canonical = json.dumps(
        {"event_name": "pre_tool_use",
         "hooks": [{"async": False, "command": kit.command("pre"), "timeout": 600,
                    "type": "command"}],
         "matcher": "Bash"},
        sort_keys=True, separators=(",", ":"),
    )  # fmt: skip
    expected = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert f'[hooks.state."{config}:pre_tool_use:0:0"]\ntrusted_hash = "{expected}"' in text

    rows = json.loads(run_cli(["hooks", "--json"], codex_home=home, cwd=work).stdout)
    assert [(row["event"], row["trust"]) for row in rows] == [
        ("PreToolUse", "trusted"),
        ("Stop", "untrusted"),
    ]

    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(sse.function_call("exec_command", '{"cmd": "echo hi"}', call_id="c1")),
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    run = run_cli(
        ["exec", "--skip-git-repo-check", "--json", "--yolo", "go"],
        codex_home=home, cwd=work, env=cli_env(home, SHELL="/bin/sh"),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert len(kit.payloads("pre")) == 1  # the hook we trusted ran
    assert "1 hook(s) not trusted" in run.stderr  # the Stop hook is still untrusted


def test_trust_all_untrust_disable_and_enable(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    write_home(home, fake_server, HookKit(tmp_path / "hooks"))

    def statuses() -> list[tuple[str, bool]]:
        rows = json.loads(run_cli(["hooks", "--json"], codex_home=home, cwd=work).stdout)
        return [(row["trust"], row["enabled"]) for row in rows]

    assert run_cli(["hooks", "trust", "--all", "--yes"], codex_home=home, cwd=work).returncode == 0
    assert statuses() == [("trusted", True), ("trusted", True)]
    assert run_cli(["hooks", "disable", "2"], codex_home=home, cwd=work).returncode == 0
    assert statuses() == [("trusted", True), ("trusted", False)]
    key = f"{home / 'config.toml'}:pre_tool_use:0:0"
    assert run_cli(["hooks", "untrust", key], codex_home=home, cwd=work).returncode == 0
    assert statuses() == [("untrusted", True), ("trusted", False)]
    assert run_cli(["hooks", "enable", "2"], codex_home=home, cwd=work).returncode == 0
    assert statuses() == [("untrusted", True), ("trusted", True)]
    missing = run_cli(["hooks", "trust", "9", "--yes"], codex_home=home, cwd=work)
    assert missing.returncode == 2
    assert missing.stderr == "error: no hook '9'; `pycodex hooks` lists them\n"


def test_no_hooks_is_one_line(tmp_path: Path, work: Path, fake_server: FakeModelServer) -> None:
    from support.cli import write_config

    home = tmp_path / "home"
    write_config(home, fake_server)
    listed = run_cli(["hooks"], codex_home=home, cwd=work)
    assert listed.returncode == 0
    assert listed.stdout == f"no hooks in {home / 'config.toml'} or {home / 'hooks.json'}\n"
