"""The trust key and `sha256:` hash of each hook, against values computed by hand from the
canonical JSON upstream hashes (sorted keys, no spaces, raw UTF-8), so a config.toml trusted by
upstream Codex is trusted by pycodex."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from pycodex.hooks.discovery import discover_hooks


def by_hand(canonical: str) -> str:
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


CASES = [
    (
        '[[hooks.PreToolUse]]\nmatcher = "Bash"\n[[hooks.PreToolUse.hooks]]\n'
        'type = "command"\ncommand = "echo hi"\n',
        "pre_tool_use",
        '{"event_name":"pre_tool_use","hooks":[{"async":false,"command":"echo hi",'
        '"timeout":600,"type":"command"}],"matcher":"Bash"}',
    ),
    (  # Stop ignores matchers: not part of its hash
        '[[hooks.Stop]]\nmatcher = "ignored"\n[[hooks.Stop.hooks]]\n'
        'type = "command"\ncommand = "./stop.sh"\ntimeout = 30\n',
        "stop",
        '{"event_name":"stop","hooks":[{"async":false,"command":"./stop.sh","timeout":30,'
        '"type":"command"}]}',
    ),
    (
        '[[hooks.PostToolUse]]\nmatcher = "Edit|Write"\n[[hooks.PostToolUse.hooks]]\n'
        'type = "command"\ncommand = "fmt"\ntimeout = 5\nasync = true\n'
        'statusMessage = "Formatting"\n',
        "post_tool_use",
        '{"event_name":"post_tool_use","hooks":[{"async":true,"command":"fmt",'
        '"statusMessage":"Formatting","timeout":5,"type":"command"}],"matcher":"Edit|Write"}',
    ),
    (  # SessionEnd: 1 s by default
        '[[hooks.SessionEnd]]\n[[hooks.SessionEnd.hooks]]\ntype = "command"\ncommand = "bye"\n',
        "session_end",
        '{"event_name":"session_end","hooks":[{"async":false,"command":"bye","timeout":1,'
        '"type":"command"}]}',
    ),
    (  # SessionEnd: at most 3 s
        '[[hooks.SessionEnd]]\n[[hooks.SessionEnd.hooks]]\ntype = "command"\ncommand = "bye"\n'
        "timeout = 10\n",
        "session_end",
        '{"event_name":"session_end","hooks":[{"async":false,"command":"bye","timeout":3,'
        '"type":"command"}]}',
    ),
    (  # at least 1 s
        '[[hooks.UserPromptSubmit]]\n[[hooks.UserPromptSubmit.hooks]]\ntype = "command"\n'
        'command = "ctx"\ntimeout = 0\n',
        "user_prompt_submit",
        '{"event_name":"user_prompt_submit","hooks":[{"async":false,"command":"ctx",'
        '"timeout":1,"type":"command"}]}',
    ),
    (
        '[[hooks.SessionStart]]\nmatcher = "startup"\n[[hooks.SessionStart.hooks]]\n'
        'type = "command"\ncommand = "echo héllo \\"quoted\\""\n',
        "session_start",
        '{"event_name":"session_start","hooks":[{"async":false,'
        '"command":"echo héllo \\"quoted\\"","timeout":600,"type":"command"}],'
        '"matcher":"startup"}',
    ),
    (
        '[[hooks.SubagentStop]]\n[[hooks.SubagentStop.hooks]]\ntype = "command"\n'
        'command = "report"\n',
        "subagent_stop",
        '{"event_name":"subagent_stop","hooks":[{"async":false,"command":"report",'
        '"timeout":600,"type":"command"}]}',
    ),
]


@pytest.mark.parametrize(("toml", "snake", "canonical"), CASES)
def test_hash_and_key_match_upstream(tmp_path: Path, toml: str, snake: str, canonical: str) -> None:
    found = discover_hooks(tmp_path, tomllib.loads(toml)["hooks"])
    (entry,) = found.entries
    assert entry.current_hash == by_hand(canonical)
    assert entry.key == f"{tmp_path / 'config.toml'}:{snake}:0:0"
    assert entry.trust == "untrusted" and not entry.runnable


def test_keys_count_groups_and_handlers_and_the_state_decides(tmp_path: Path) -> None:
    toml = """
[[hooks.PreToolUse]]
matcher = "Bash"
[[hooks.PreToolUse.hooks]]
type = "command"
command = "first"
[[hooks.PreToolUse.hooks]]
type = "command"
command = "second"

[[hooks.PreToolUse]]
matcher = "Edit"
[[hooks.PreToolUse.hooks]]
type = "command"
command = "third"
"""
    table = tomllib.loads(toml)["hooks"]
    config = tmp_path / "config.toml"
    found = discover_hooks(tmp_path, table)
    assert [e.key for e in found.entries] == [
        f"{config}:pre_tool_use:0:0",
        f"{config}:pre_tool_use:0:1",
        f"{config}:pre_tool_use:1:0",
    ]
    first, second, third = found.entries
    table["state"] = {
        first.key: {"trusted_hash": first.current_hash},
        second.key: {"trusted_hash": "sha256:" + "0" * 64},
        third.key: {"trusted_hash": third.current_hash, "enabled": False},
    }
    found = discover_hooks(tmp_path, table)
    assert [(e.trust, e.enabled, e.runnable) for e in found.entries] == [
        ("trusted", True, True),
        ("modified", True, False),
        ("trusted", False, False),
    ]
    bypassed = discover_hooks(tmp_path, table, bypass_trust=True)
    assert [e.runnable for e in bypassed.entries] == [True, True, False]  # disabled stays off


def test_bad_shapes_skip_the_file_with_one_warning(tmp_path: Path) -> None:
    table = {"PreToolUse": [{"hooks": [{"type": "command", "command": 5}]}]}
    found = discover_hooks(tmp_path, table)
    assert found.entries == []
    assert found.warnings == [
        f"hooks in {tmp_path / 'config.toml'} ignored: PreToolUse[0].hooks[0].command must be a "
        "string"
    ]
    (tmp_path / "hooks.json").write_text("{not json")
    found = discover_hooks(tmp_path, {})
    assert len(found.warnings) == 1 and "is not valid JSON" in found.warnings[0]


def test_unsupported_handler_types_and_empty_commands_are_skipped(tmp_path: Path) -> None:
    table = {
        "Stop": [{"hooks": [{"type": "prompt"}, {"type": "command", "command": "  "},
                            {"type": "command", "command": "ok"}]}],
    }  # fmt: skip
    found = discover_hooks(tmp_path, table)
    assert [(e.command, e.key.rsplit(":", 2)[1:]) for e in found.entries] == [("ok", ["0", "2"])]
    assert len(found.warnings) == 2
