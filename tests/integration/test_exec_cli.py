"""`pycodex exec` as a subprocess: JSONL stream, human output, flags, files and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from support import sse_builders as sse
from support.cli import cli_env, run_cli
from support.fake_server import FakeModelServer

BASE = ["exec", "--skip-git-repo-check"]


def normalize(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    text = json.dumps(events)
    text = re.sub(r'"thread_id": "[0-9a-f-]{36}"', '"thread_id": "<id>"', text)
    return list(json.loads(text))


def test_tool_round_trip_jsonl_snapshot(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    patch = "*** Begin Patch\n*** Add File: notes.txt\n+hello\n*** End Patch\n"
    plan = {"plan": [{"step": "write notes", "status": "in_progress"}]}
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(
            sse.function_call("update_plan", json.dumps(plan), call_id="p1", id="fc_p1"),
            sse.custom_tool_call("apply_patch", patch, call_id="a1"),
            sse.function_call(
                "exec_command", json.dumps({"cmd": "cat notes.txt", "login": False}), call_id="e1"
            ),
        ),
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Wrote notes.txt."))
    result = run_cli([*BASE, "--json", "--full-auto", "write notes"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    notes = str(work / "notes.txt")  # absolute, as upstream reports file changes
    assert normalize(result.events()) == [
        {"type": "thread.started", "thread_id": "<id>"},
        {"type": "turn.started"},
        {"type": "item.started", "item": {"id": "item_0", "type": "todo_list",
                                          "items": [{"text": "write notes", "completed": False}]}},
        {"type": "item.started", "item": {"id": "item_1", "type": "file_change",
                                          "changes": [{"path": notes, "kind": "add"}],
                                          "status": "in_progress"}},
        {"type": "item.completed", "item": {"id": "item_1", "type": "file_change",
                                            "changes": [{"path": notes, "kind": "add"}],
                                            "status": "completed"}},
        {"type": "item.started", "item": {"id": "item_2", "type": "command_execution",
                                          "command": "/bin/bash -c 'cat notes.txt'",
                                          "aggregated_output": "", "exit_code": None,
                                          "status": "in_progress"}},
        {"type": "item.completed", "item": {"id": "item_2", "type": "command_execution",
                                            "command": "/bin/bash -c 'cat notes.txt'",
                                            "aggregated_output": "hello\n", "exit_code": 0,
                                            "status": "completed"}},
        {"type": "item.completed", "item": {"id": "item_3", "type": "agent_message",
                                            "text": "Wrote notes.txt."}},
        {"type": "item.completed", "item": {"id": "item_0", "type": "todo_list",
                                            "items": [{"text": "write notes", "completed": False}]}},
        {"type": "turn.completed",
         "usage": {"input_tokens": 20, "cached_input_tokens": 0, "cache_write_input_tokens": 0,
                   "output_tokens": 10, "reasoning_output_tokens": 0}},
    ]  # fmt: skip
    assert (work / "notes.txt").read_text() == "hello\n"
    outputs = {
        item["call_id"]: item["output"]
        for item in fake_server.requests[1].json()["input"]
        if item["type"].endswith("_output")
    }
    assert outputs["p1"] == "Plan updated"
    assert re.fullmatch(
        r"Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\n"
        r"Success\. Updated the following files:\nA notes\.txt\n",
        outputs["a1"],
    )
    assert re.fullmatch(
        r"Chunk ID: \w+\nWall time: \d+\.\d{4} seconds\nProcess exited with code 0\n"
        r"Original token count: \d+\nOutput:\nhello\n",
        outputs["e1"],
    )


def test_human_output_and_final_message(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(sse.function_call("exec_command", '{"cmd": "exit 3"}', call_id="e1")),
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("The command failed."))
    out_file = work / "last.txt"
    result = run_cli(
        [*BASE, "--color", "never", "-o", str(out_file), "check it"], codex_home=home, cwd=work
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The command failed.\n"
    assert out_file.read_text() == "The command failed."
    err = result.stderr
    assert "\n--------\nworkdir: " in err
    assert "\nmodel: test-model\nprovider: fake\napproval: never\nsandbox: read-only\n" in err
    assert "\nuser\ncheck it\n" in err
    assert re.search(r"\nexec\n/bin/bash -lc 'exit 3' in \S+\n exited 3 in \d+ms:\n", err)
    assert "\ncodex\nThe command failed.\n" in err
    assert err.endswith("tokens used\n30\n")


def test_prompt_from_stdin_and_stdin_block(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    """Upstream's rules: `-` reads the prompt silently; no prompt reads it with a notice; a
    prompt plus piped stdin appends it as a block, with a notice; `exec resume` with a prompt
    does not read stdin at all."""
    for reply in "abcde":
        fake_server.expect_sse("/v1/responses", sse.assistant_reply(reply))
    runs = [
        ([*BASE, "--json", "-"], "from stdin"),
        ([*BASE, "--json"], "no prompt"),
        ([*BASE, "--json", "summarize"], "DATA"),
        ([*BASE, "--json", "summarize"], "LINE\n"),
        ([*BASE, "--json", "resume", "--last", "go on"], "ignored"),
    ]
    results = [run_cli(args, codex_home=home, cwd=work, stdin=stdin) for args, stdin in runs]
    assert [result.returncode for result in results] == [0] * 5, results[-1].stderr

    def notices(index: int) -> list[str]:
        return [line for line in results[index].stderr.splitlines() if line.startswith("Reading")]

    assert [notices(index) for index in range(5)] == [
        [],
        ["Reading prompt from stdin..."],
        ["Reading additional input from stdin..."],
        ["Reading additional input from stdin..."],
        [],
    ]

    def last_user_text(index: int) -> str:
        items = fake_server.requests[index].json()["input"]
        return str(items[-1]["content"][-1]["text"])

    assert [last_user_text(index) for index in range(5)] == [
        "from stdin",
        "no prompt",
        "summarize\n\n<stdin>\nDATA\n</stdin>",
        "summarize\n\n<stdin>\nLINE\n</stdin>",
        "go on",
    ]


def test_output_schema_is_sent_and_answer_is_the_json(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    schema_file = work / "schema.json"
    schema_file.write_text(json.dumps(schema))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply('{"ok":true}'))
    result = run_cli(
        [*BASE, "--json", "--output-schema", str(schema_file), "answer"], codex_home=home, cwd=work
    )
    assert result.returncode == 0, result.stderr
    assert fake_server.requests[0].json()["text"] == {
        "format": {
            "type": "json_schema",
            "strict": True,
            "schema": schema,
            "name": "codex_output_schema",
        }
    }
    messages = [e["item"] for e in result.events() if e["type"] == "item.completed"]
    assert messages == [{"id": "item_0", "type": "agent_message", "text": '{"ok":true}'}]


def test_sdk_style_invocation(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    """The TypeScript SDK's flags, prompt on stdin, key in CODEX_API_KEY for the openai provider."""
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("sdk ok"))
    (home / "config.toml").write_text("")
    env = cli_env(home, CODEX_API_KEY="sk-sdk")
    args = [
        "exec", "--experimental-json", "--config", f'openai_base_url="{fake_server.base_url}"',
        "--model", "gpt-test", "--thread-source", "sdk", "--sandbox", "workspace-write",
        "--cd", str(work), "--add-dir", str(work), "--skip-git-repo-check",
        "--config", 'model_reasoning_effort="low"',
        "--config", "sandbox_workspace_write.network_access=false",
        "--config", 'web_search="disabled"', "--config", 'approval_policy="never"',
    ]  # fmt: skip
    result = run_cli(args, codex_home=home, cwd=work, stdin="hello from sdk", env=env)
    assert result.returncode == 0, result.stderr
    request = fake_server.requests[0]
    assert request.headers["authorization"] == "Bearer sk-sdk"
    body = request.json()
    assert body["model"] == "gpt-test"
    assert body["reasoning"] == {"effort": "low"}
    assert [e["type"] for e in result.events()][-1] == "turn.completed"


def test_turn_failure_exits_1_with_turn_failed(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_error("/v1/responses", 400, {"error": {"message": "model not found"}})
    out_file = work / "last.txt"
    result = run_cli([*BASE, "--json", "-o", str(out_file), "hi"], codex_home=home, cwd=work)
    assert result.returncode == 1
    events = result.events()
    assert events[-2]["type"] == "error" and "model not found" in events[-2]["message"]
    assert events[-1] == {"type": "turn.failed", "error": {"message": events[-2]["message"]}}
    assert not out_file.exists()


def test_retries_show_as_reconnecting_then_fail(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    for _ in range(3):
        fake_server.expect_sse("/v1/responses", [sse.failed("server_error", "overloaded")])
    result = run_cli([*BASE, "--json", "hi"], codex_home=home, cwd=work)
    assert result.returncode == 1
    reason = "stream disconnected before completion: overloaded"
    assert result.events()[2:] == [
        {"type": "error", "message": f"Reconnecting... 1/2 ({reason})"},
        {"type": "error", "message": f"Reconnecting... 2/2 ({reason})"},
        {"type": "error", "message": reason},
        {"type": "turn.failed", "error": {"message": reason}},
    ]


def test_http_500_retried_at_both_levels(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    for _ in range(3):  # request_max_retries = 2: three HTTP attempts, then one turn retry
        fake_server.expect_error("/v1/responses", 500, "boom")
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("finally"))
    result = run_cli([*BASE, "--json", "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    kinds = [e["type"] for e in result.events()]
    assert kinds.count("error") == 1
    assert result.events()[2]["message"].startswith("Reconnecting... 1/2 (unexpected status 500")


def test_429_without_retry_after_fails(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    for _ in range(3):
        fake_server.expect_error("/v1/responses", 429, {"error": {"message": "slow"}})
    result = run_cli([*BASE, "--json", "hi"], codex_home=home, cwd=work)
    assert result.returncode == 1
    message = "exceeded retry limit, last status: 429 Too Many Requests"
    assert result.events()[-1] == {"type": "turn.failed", "error": {"message": message}}


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        (["--bogus-flag", "hi"], "", "unrecognized arguments: --bogus-flag"),
        (["-c", "novalue", "hi"], "", "-c/--config expects key=value, got 'novalue'"),
        (["hi"], "sandbox_mode = 'sometimes'", "sandbox_mode"),
        (["hi"], "model = [", "invalid TOML"),
        (["hi"], "model_provider = 'nowhere'", "nowhere"),
        (["--output-schema", "/nonexistent.json", "hi"], "", "cannot read /nonexistent.json"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, work: Path, args: list[str], config: str, expected: str
) -> None:
    home = tmp_path / "bad-home"
    home.mkdir()
    (home / "config.toml").write_text(config)
    result = run_cli([*BASE, *args], codex_home=home, cwd=work)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        (["-o", "missing/dir/last.txt"], "",
         "error: --output-last-message: directory missing/dir does not exist"),
        (["-o", "."], "", "error: --output-last-message: . is a directory"),
        (["--output-schema", "bad.json"], "", "error: --output-schema: bad.json is not valid JSON"),
        (["--output-schema", "list.json"], "",
         "error: --output-schema: list.json must contain a JSON object"),
        (["--output-schema", "."], "", "error: --output-schema: cannot read ."),
        (["-i", "nothere.png"], "", "error: --image: nothere.png is not a readable file"),
        ([], 'approval_policy = "sometimes"',
         "error: config error: {home}/config.toml: approval_policy: expected one of untrusted, "
         "on-failure, on-request, never, got 'sometimes'"),
        (["-c", "approval_policy=never"], 'model_verbosity = "loud"',
         "error: config error: {home}/config.toml: model_verbosity: expected one of low, medium, "
         "high, got 'loud'"),
    ],
)  # fmt: skip
def test_bad_files_and_values_fail_before_the_first_request(
    home: Path, work: Path, args: list[str], config: str, expected: str
) -> None:
    """The fake server has no script: a request made before the check fails the test."""
    (work / "bad.json").write_text("{not json")
    (work / "list.json").write_text("[1]")
    config_file = home / "config.toml"
    config_file.write_text(config + "\n" + config_file.read_text())
    result = run_cli([*BASE, *args, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected.format(home=home)), result.stderr
    assert not (work / "missing").exists()


def test_missing_api_key_is_a_config_error(home: Path, work: Path) -> None:
    env = cli_env(home)
    del env["FAKE_API_KEY"]
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work, env=env)
    assert result.returncode == 2
    assert "FAKE_API_KEY" in result.stderr and "Traceback" not in result.stderr


def test_git_repo_check(home: Path, work: Path) -> None:
    result = run_cli(["exec", "hi"], codex_home=home, cwd=work)
    assert result.returncode == 2
    assert "--skip-git-repo-check" in result.stderr


def test_version_and_help(tmp_path: Path) -> None:
    version = run_cli(["--version"], codex_home=tmp_path, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("pycodex ")
    help_text = run_cli(["exec", "--help"], codex_home=tmp_path, cwd=tmp_path)
    assert help_text.returncode == 0 and "--output-schema" in help_text.stdout


def test_debug_prompt_prints_the_request_exec_would_send(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    shown = run_cli(["debug", "prompt", "what now"], codex_home=home, cwd=work)
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    sent = run_cli([*BASE, "--json", "-c", 'approval_policy="on-request"', "what now"],
                   codex_home=home, cwd=work)  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    actual = fake_server.requests[0].json()
    for key in ("model", "instructions", "input", "tools", "parallel_tool_calls"):
        assert body[key] == actual[key], key
    assert fake_server.requests == [fake_server.requests[0]]  # debug prompt sent nothing
