"""Hooks end to end: `pycodex exec --json` against the scripted model server, with real hook
scripts (tests/support/hooks.py) configured in config.toml and trusted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support import sse_builders as sse
from support.cli import CliResult, cli_env, run_cli
from support.fake_server import FakeModelServer
from support.hooks import HookKit, hook_group, trust_all

BASE = ["exec", "--skip-git-repo-check", "--json", "--yolo"]
RESPONSES = "/v1/responses"


@pytest.fixture
def kit(tmp_path: Path) -> HookKit:
    return HookKit(tmp_path / "hooks")


def hook_cli(args: list[str], home: Path, work: Path, **env: str) -> CliResult:
    """`pycodex exec --json ARGS` whose hooks run in `/bin/sh` (a login bash can take a second
    to start on a loaded machine; `$SHELL` is what upstream runs hooks with)."""
    return run_cli(
        [*BASE, *args], codex_home=home, cwd=work, env=cli_env(home, SHELL="/bin/sh", **env)
    )


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
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert outputs(fake_server.requests[1])["c1"] == (
        f"Command blocked by PreToolUse hook: no touching. Command: touch {marker}"
    )
    assert items_of(result, "command_execution") == []
    (payload,) = kit.payloads("pre")
    assert payload["tool_name"] == "Bash"
    assert payload["tool_input"] == {"command": f"touch {marker}"}


def rollout_of(home: Path) -> Path:
    (path,) = (home / "sessions").rglob("rollout-*.jsonl")
    return path


def test_every_event_gets_its_payload_fields(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(
        home,
        *(hook_group(event, kit.command(event)) for event in (
            "SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop",
        )),
        hook_group("SessionEnd", kit.shell_command("SessionEnd"), timeout=3),
    )  # fmt: skip
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo hi")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("all done"))
    result = hook_cli(["say hi"], home, work)
    assert result.returncode == 0, result.stderr
    thread_id = result.events()[0]["thread_id"]
    common = {
        "session_id": thread_id,
        "transcript_path": str(rollout_of(home)),
        "cwd": str(work),
        "model": "test-model",
    }
    (start,) = kit.payloads("SessionStart")
    assert start == {
        **common, "hook_event_name": "SessionStart", "permission_mode": "bypassPermissions",
        "source": "startup",
    }  # fmt: skip
    assert list(start) == [
        "session_id", "transcript_path", "cwd", "hook_event_name", "model", "permission_mode",
        "source",
    ]  # fmt: skip
    (prompt,) = kit.payloads("UserPromptSubmit")
    turn_id = prompt["turn_id"]
    assert prompt == {
        **common, "turn_id": turn_id, "hook_event_name": "UserPromptSubmit",
        "permission_mode": "bypassPermissions", "prompt": "say hi",
    }  # fmt: skip
    (pre,) = kit.payloads("PreToolUse")
    tool = {"tool_name": "Bash", "tool_input": {"command": "echo hi"}, "tool_use_id": "c1"}
    assert pre == {
        **common, "turn_id": turn_id, "hook_event_name": "PreToolUse",
        "permission_mode": "bypassPermissions", **tool,
    }  # fmt: skip
    (post,) = kit.payloads("PostToolUse")
    assert post == {
        **common, "turn_id": turn_id, "hook_event_name": "PostToolUse",
        "permission_mode": "bypassPermissions", **tool, "tool_response": "hi\n",
    }  # fmt: skip
    (stop,) = kit.payloads("Stop")
    assert stop == {
        **common, "turn_id": turn_id, "hook_event_name": "Stop",
        "permission_mode": "bypassPermissions", "stop_hook_active": False,
        "last_assistant_message": "all done",
    }  # fmt: skip
    (end,) = kit.payloads("SessionEnd")
    assert end == {
        "session_id": thread_id, "transcript_path": str(rollout_of(home)), "cwd": str(work),
        "hook_event_name": "SessionEnd", "reason": "other",
    }  # fmt: skip
    assert "hook" not in result.stderr  # nothing went wrong, so nothing is reported


def test_pre_tool_use_deny_by_exit_2_uses_stderr_as_the_reason(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(home, hook_group("PreToolUse", kit.command("pre", stderr="not now\n", exit=2)))
    marker = work / "made"
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call(f"touch {marker}")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert outputs(fake_server.requests[1])["c1"] == (
        f"Command blocked by PreToolUse hook: not now. Command: touch {marker}"
    )
    assert [e["type"] for e in result.events()][-1] == "turn.completed"


def test_updated_input_runs_another_command_but_history_keeps_the_models_call(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    rewrite = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow",
            "updatedInput": {"command": "echo rewritten"},
        }
    }
    configure(home, hook_group("PreToolUse", kit.command("pre", stdout=rewrite)))
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo original")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    second = fake_server.requests[1].json()["input"]
    (call,) = [item for item in second if item.get("type") == "function_call"]
    assert json.loads(call["arguments"])["cmd"] == "echo original"
    output = outputs(fake_server.requests[1])["c1"]
    assert output.endswith("Output:\nrewritten\n")
    (command,) = items_of(result, "command_execution")
    assert "echo rewritten" in command["command"]


def test_post_tool_use_block_replaces_the_output_the_model_sees(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    block = {"decision": "block", "reason": "output withheld by policy"}
    configure(home, hook_group("PostToolUse", kit.command("post", stdout=block)))
    marker = work / "made"
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call(f"touch {marker}; echo secret")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert marker.exists()  # the command ran; only what the model sees changed
    assert outputs(fake_server.requests[1])["c1"] == "output withheld by policy"
    (payload,) = kit.payloads("post")
    assert payload["tool_response"] == "secret\n"


def test_post_tool_use_exit_2_also_replaces_the_output(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(home, hook_group("PostToolUse", kit.command("post", stderr="redacted", exit=2)))
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo secret")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert outputs(fake_server.requests[1])["c1"] == "redacted"


def input_texts(request: Any) -> list[tuple[str, str]]:
    """(role or type, text) of each input item of a request, in order."""
    found = []
    for item in request.json()["input"]:
        if item.get("type") == "message":
            text = "".join(part.get("text", "") for part in item["content"])
            found.append((item["role"], text))
        else:
            found.append((item["type"], item.get("call_id", "")))
    return found


def context_output(event: str, text: str) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}


def test_added_context_reaches_the_model_where_upstream_puts_it(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(
        home,
        hook_group("SessionStart", kit.command("start", stdout=context_output(
            "SessionStart", "START-CONTEXT"))),
        hook_group("UserPromptSubmit", kit.command("prompt", stdout="PLAIN-PROMPT-CONTEXT\n")),
        hook_group("PreToolUse", kit.command("pre", stdout=context_output(
            "PreToolUse", "PRE-CONTEXT"))),
        hook_group("PostToolUse", kit.command("post", stdout=context_output(
            "PostToolUse", "POST-CONTEXT"))),
    )  # fmt: skip
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo hi")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["THE-PROMPT"], home, work)
    assert result.returncode == 0, result.stderr
    first = input_texts(fake_server.requests[0])
    environment = next(i for i, (_r, t) in enumerate(first) if "<environment_context>" in t)
    assert first[environment + 1 :] == [
        ("developer", "START-CONTEXT"),
        ("user", "THE-PROMPT"),
        ("developer", "PLAIN-PROMPT-CONTEXT"),
    ]
    second = input_texts(fake_server.requests[1])
    assert second[-3:] == [
        ("developer", "PRE-CONTEXT"),
        ("developer", "POST-CONTEXT"),
        ("function_call_output", "c1"),
    ]


def test_user_prompt_submit_block_sends_nothing_and_the_turn_completes(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    block = {"decision": "block", "reason": "not this prompt"}
    configure(home, hook_group("UserPromptSubmit", kit.command("prompt", stdout=block)))
    result = hook_cli(["forbidden"], home, work)
    assert result.returncode == 0, result.stderr
    assert fake_server.requests == []
    types = [event["type"] for event in result.events()]
    assert types == ["thread.started", "turn.started", "turn.completed"]
    usage = result.events()[-1]["usage"]
    assert set(usage.values()) == {0}


def test_stop_block_continues_the_turn_with_the_reason(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(home, hook_group("Stop", kit.command("stop", stop_block="also run the tests")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("first answer"))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("tests ran", item_id="msg_2"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    messages = [item["text"] for item in items_of(result, "agent_message")]
    assert messages == ["first answer", "tests ran"]
    run_id = f"stop:0:{home / 'config.toml'}"
    assert input_texts(fake_server.requests[1])[-1] == (
        "user",
        f'<hook_prompt hook_run_id="{run_id}">also run the tests</hook_prompt>',
    )
    first, second = kit.payloads("stop")
    assert (first["stop_hook_active"], second["stop_hook_active"]) == (False, True)
    assert second["last_assistant_message"] == "tests ran"


PATCH = "*** Begin Patch\n*** Add File: new.txt\n+hello\n*** End Patch\n"


def test_matchers_select_tools_by_upstream_rules(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    matchers = {"exact": "Bash", "prefix": "Ba", "regex": "^Ba", "edit": "Edit|Write", "all": "*"}
    configure(home, *(
        hook_group("PreToolUse", kit.command(name), matcher=m) for name, m in matchers.items()
    ))  # fmt: skip
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo hi", "bash1")))
    patch = sse.custom_tool_call("apply_patch", PATCH, call_id="patch1")
    fake_server.expect_sse(RESPONSES, sse.tool_calls(patch))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    fired = {name: [p["tool_use_id"] for p in kit.payloads(name)] for name in matchers}
    assert fired == {
        "exact": ["bash1"],
        "prefix": [],
        "regex": ["bash1"],
        "edit": ["patch1"],
        "all": ["bash1", "patch1"],
    }
    (patch_payload,) = kit.payloads("edit")
    assert patch_payload["tool_name"] == "apply_patch"
    assert patch_payload["tool_input"] == {"command": PATCH}
    assert (work / "new.txt").read_text() == "hello\n"


def test_an_invalid_matcher_drops_its_group_with_a_warning(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(
        home,
        hook_group("PreToolUse", kit.command("bad"), matcher="[unclosed"),
        hook_group("PreToolUse", kit.command("good"), matcher="Bash"),
    )
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo hi")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert kit.payloads("bad") == [] and len(kit.payloads("good")) == 1
    warnings = [line for line in result.stderr.splitlines() if "invalid matcher" in line]
    assert len(warnings) == 1 and "'[unclosed'" in warnings[0]


def test_failing_invalid_and_slow_hooks_are_reported_and_ignored(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(
        home,
        hook_group("PreToolUse", kit.command("fails", stderr="boom", exit=1)),
        hook_group("PreToolUse", kit.command("invalid", stdout="{not json")),
        hook_group("PreToolUse", kit.command("slow", sleep=60), timeout=1),
        hook_group("PreToolUse", "exit 2"),  # exit 2 without a reason: a failure, not a block
    )
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo still-ran")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert outputs(fake_server.requests[1])["c1"].endswith("Output:\nstill-ran\n")
    reports = [line for line in result.stderr.splitlines() if line.startswith("hook: ")]
    assert len(reports) == 4, result.stderr
    assert any("failed: exited with code 1" in line for line in reports)
    assert any("invalid output: not valid JSON" in line for line in reports)
    assert any("failed: timed out after 1s" in line for line in reports)
    assert any("exited with code 2 but wrote no reason" in line for line in reports)
    assert all(event["type"] != "error" for event in result.events())


def test_untrusted_hooks_are_skipped_and_said_once(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(
        home,
        hook_group("PreToolUse", kit.command("pre")),
        hook_group("Stop", kit.command("stop")),
        trusted=False,
    )
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo hi")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert kit.payloads("pre") == [] and kit.payloads("stop") == []
    notices = [line for line in result.stderr.splitlines() if "not trusted" in line]
    assert notices == [
        f"warning: 2 hook(s) not trusted, so they do not run (PreToolUse, Stop; in "
        f"{home / 'config.toml'}); review and trust them with `pycodex hooks`"
    ]
    assert items_of(result, "error") == []  # a line on stderr, not an item of the stream


def test_a_modified_hook_is_no_longer_trusted(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(home, hook_group("PreToolUse", kit.command("pre")))
    config = home / "config.toml"
    config.write_text(config.read_text().replace("pre.jsonl", "changed.jsonl"))
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo hi")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert kit.payloads("changed") == []
    assert "1 hook(s) not trusted" in result.stderr


def test_bypassing_trust_runs_untrusted_hooks_and_says_so(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(home, hook_group("PreToolUse", kit.command("pre")), trusted=False)
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo hi")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["--dangerously-bypass-hook-trust", "go"], home, work)
    assert result.returncode == 0, result.stderr
    assert len(kit.payloads("pre")) == 1
    errors = [item["message"] for item in items_of(result, "error")]
    assert len(errors) == 2
    assert all(m.startswith("`--dangerously-bypass-hook-trust` is enabled") for m in errors)
    assert "not trusted" not in result.stderr


def test_hooks_feature_off_disables_every_hook(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(home, hook_group("UserPromptSubmit", kit.command("prompt")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["-c", "features.hooks=false", "go"], home, work)
    assert result.returncode == 0, result.stderr
    assert kit.payloads("prompt") == []


def test_hooks_json_is_read_and_both_files_in_one_layer_warn(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    group = {"hooks": [{"type": "command", "command": kit.command("from_json")}]}
    (home / "hooks.json").write_text(json.dumps({"hooks": {"UserPromptSubmit": [group]}}))
    configure(home, hook_group("UserPromptSubmit", kit.command("from_toml")))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert len(kit.payloads("from_json")) == 1 and len(kit.payloads("from_toml")) == 1
    state = (home / "config.toml").read_text()
    assert f'"{home / "hooks.json"}:user_prompt_submit:0:0"' in state
    assert "hooks are configured in both" in result.stderr


NOTIFY_PROGRAM = """\
import sys
with open(sys.argv[1], "w", encoding="utf-8") as fifo:  # blocks until the test reads
    fifo.write(sys.argv[-1])
"""


def test_notify_gets_the_turn_as_its_last_argument_and_exec_does_not_wait(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    import os
    import sys

    fifo = tmp_path / "notify.fifo"
    os.mkfifo(fifo)
    program = tmp_path / "notify.py"
    program.write_text(NOTIFY_PROGRAM)
    config = home / "config.toml"
    argv = json.dumps([sys.executable, str(program), str(fifo)])
    config.write_text(f"notify = {argv}\n" + config.read_text())
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("done"))
    # The notify program cannot finish before the test opens the FIFO: exec returning first
    # shows it does not wait for it.
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    notice = json.loads(read_fifo(fifo))
    records = [json.loads(line) for line in rollout_of(home).read_text().splitlines()]
    (turn_id,) = [
        r["payload"]["turn_id"] for r in records if r["payload"].get("type") == "task_started"
    ]
    assert list(notice) == [
        "type", "thread-id", "turn-id", "cwd", "client", "input-messages",
        "last-assistant-message",
    ]  # fmt: skip
    assert notice == {
        "type": "agent-turn-complete",
        "thread-id": result.events()[0]["thread_id"],
        "turn-id": turn_id,
        "cwd": str(work),
        "client": "pycodex_exec",
        "input-messages": ["go"],
        "last-assistant-message": "done",
    }


def test_a_notify_program_that_cannot_start_is_one_line(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    config = home / "config.toml"
    config.write_text('notify = ["/nonexistent/notifier"]\n' + config.read_text())
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("done"))
    result = hook_cli(["go"], home, work)
    assert result.returncode == 0, result.stderr
    assert "hook: notify program '/nonexistent/notifier' could not start" in result.stderr


def test_compaction_hooks_run_around_auto_compaction(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(
        home,
        hook_group("PreCompact", kit.command("pre_compact")),
        hook_group("PostCompact", kit.command("post_compact")),
    )
    call = shell_call("seq 1 3000")  # an output the summary is much smaller than
    big = sse.tool_calls(call)
    big[-1] = sse.completed(output=[call], input_tokens=50_000)
    fake_server.expect_sse(RESPONSES, big)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("SUMMARY OF WORK"))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("done", item_id="msg_2"))
    result = hook_cli(["-c", "model_auto_compact_token_limit=1000", "go"], home, work)
    assert result.returncode == 0, result.stderr
    (pre,) = kit.payloads("pre_compact")
    (post,) = kit.payloads("post_compact")
    expected = {
        "session_id": result.events()[0]["thread_id"],
        "turn_id": pre["turn_id"],
        "transcript_path": str(rollout_of(home)),
        "cwd": str(work),
        "hook_event_name": "PreCompact",
        "model": "test-model",
        "trigger": "auto",
    }
    assert pre == expected
    assert post == {**expected, "hook_event_name": "PostCompact"}


def ns_call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {**sse.function_call(name, json.dumps(arguments), call_id=call_id),
            "namespace": "multi_agent_v1"}  # fmt: skip


def test_subagent_start_and_stop_fire_for_a_spawned_child(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    from support.fake_server import RecordedRequest, user_message_contains

    events = ("SessionStart", "Stop", "SubagentStart", "SubagentStop", "PreToolUse")
    configure(home, *(hook_group(event, kit.command(event)) for event in events))
    child = user_message_contains("CHILD-TASK-91")
    fake_server.expect_sse(RESPONSES, sse.tool_calls(shell_call("echo child", "k1")), when=child)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("CHILD-RESULT"), when=child)
    spawn = ns_call("spawn_agent", {"message": "CHILD-TASK-91"}, "c_spawn")
    fake_server.expect_sse(RESPONSES, sse.tool_calls(spawn))

    def wait(request: RecordedRequest) -> list[dict[str, Any]]:
        agent = json.loads(outputs(request)["c_spawn"])["agent_id"]
        return sse.tool_calls(ns_call("wait_agent", {"targets": [agent]}, "c_wait"))

    fake_server.expect_sse_from(RESPONSES, wait)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("PARENT-DONE"))
    result = hook_cli(["PARENT-TASK"], home, work)
    assert result.returncode == 0, result.stderr
    root = result.events()[0]["thread_id"]
    (start,) = kit.payloads("SubagentStart")
    agent = start["agent_id"]
    assert agent != root
    child_rollouts = [p for p in (home / "sessions").rglob("*.jsonl") if agent in p.name]
    parent_rollouts = [p for p in (home / "sessions").rglob("*.jsonl") if root in p.name]
    assert start == {
        "session_id": root, "turn_id": start["turn_id"],
        "transcript_path": str(child_rollouts[0]), "cwd": str(work),
        "hook_event_name": "SubagentStart", "model": "test-model",
        "permission_mode": "bypassPermissions", "agent_id": agent, "agent_type": "default",
    }  # fmt: skip
    (stop,) = kit.payloads("SubagentStop")
    assert stop == {
        "session_id": root, "turn_id": start["turn_id"],
        "transcript_path": str(parent_rollouts[0]),
        "agent_transcript_path": str(child_rollouts[0]), "cwd": str(work),
        "hook_event_name": "SubagentStop", "model": "test-model",
        "permission_mode": "bypassPermissions", "stop_hook_active": False,
        "agent_id": agent, "agent_type": "default", "last_assistant_message": "CHILD-RESULT",
    }  # fmt: skip
    # The child fires neither SessionStart nor Stop; its tool hooks say who it is.
    assert len(kit.payloads("SessionStart")) == 1
    assert [p["last_assistant_message"] for p in kit.payloads("Stop")] == ["PARENT-DONE"]
    (child_pre,) = [p for p in kit.payloads("PreToolUse") if p["tool_use_id"] == "k1"]
    assert (child_pre["agent_id"], child_pre["agent_type"]) == (agent, "default")


def test_session_start_says_startup_then_resume_and_its_matcher_picks(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit
) -> None:
    configure(
        home,
        hook_group("SessionStart", kit.command("startup"), matcher="startup"),
        hook_group("SessionStart", kit.command("resume"), matcher="resume"),
    )
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("first"))
    assert hook_cli(["first"], home, work).returncode == 0
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("second"))
    resumed = run_cli(
        ["exec", "--skip-git-repo-check", "--json", "resume", "--last", "again"],
        codex_home=home, cwd=work, env=cli_env(home, SHELL="/bin/sh"),
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert [p["source"] for p in kit.payloads("startup")] == ["startup"]
    assert [p["source"] for p in kit.payloads("resume")] == ["resume"]


def test_hooks_run_in_the_users_shell(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit, tmp_path: Path
) -> None:
    seen = tmp_path / "shell.txt"
    configure(home, hook_group("UserPromptSubmit", f'echo "$0 $PWD" > {seen}'))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("ok"))
    env = {key: value for key, value in cli_env(home).items() if key != "SHELL"}
    result = run_cli([*BASE, "go"], codex_home=home, cwd=work, env=env)
    assert result.returncode == 0, result.stderr
    assert seen.read_text() == f"/bin/bash {work}\n"  # no $SHELL: bash, in the session's dir


def read_fifo(fifo: Path) -> str:
    """What the notify program writes into `fifo` (it blocks until this reads)."""
    import threading

    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    (text,) = received
    return text


def test_the_interactive_agent_reports_hooks_bypasses_trust_and_notifies(
    fake_server: FakeModelServer, home: Path, work: Path, kit: HookKit, tmp_path: Path
) -> None:
    """`pycodex PROMPT` without a terminal runs one turn through the interactive agent."""
    import os
    import sys

    fifo = tmp_path / "notify.fifo"
    os.mkfifo(fifo)
    program = tmp_path / "notify.py"
    program.write_text(NOTIFY_PROGRAM)
    config = home / "config.toml"
    argv = json.dumps([sys.executable, str(program), str(fifo)])
    config.write_text(f"notify = {argv}\n" + config.read_text())
    configure(home, hook_group("UserPromptSubmit", kit.command("prompt", exit=1)), trusted=False)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("hello there"))
    result = run_cli(
        ["--dangerously-bypass-hook-trust", "hi"],
        codex_home=home, cwd=work, env=cli_env(home, SHELL="/bin/sh"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = " ".join((result.stdout + result.stderr).split())  # the transcript wraps lines
    assert len(kit.payloads("prompt")) == 1  # untrusted, but the flag lets it run
    assert "• hook: UserPromptSubmit hook" in shown and "failed: exited with code 1" in shown
    assert shown.count("`--dangerously-bypass-hook-trust` is enabled") == 2
    assert "hello there" in result.stdout
    notice = json.loads(read_fifo(fifo))
    assert notice["client"] == "pycodex_cli" and notice["input-messages"] == ["hi"]
