"""`pycodex serve` end to end: `pycodex exec` through it, and the command as a subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from support.cli import cli_env, run_cli
from support.fake_server import FakeModelServer
from support.serve import running_serve
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"


def exec_config(codex_home: Path, serve_url: str) -> None:
    """A config that sends exec's Responses requests to the serve endpoint."""
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        f"""model = "local-model"
model_provider = "serve"

[model_providers.serve]
name = "pycodex serve"
base_url = "{serve_url}"
wire_api = "responses"
env_key = "FAKE_API_KEY"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = 10000

[features]
unified_exec = true
""",
        encoding="utf-8",
    )


def tool_call_chunks(call_id: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    function = {"name": "exec_command", "arguments": json.dumps(arguments)}
    call = {"index": 0, "id": call_id, "type": "function", "function": function}
    return [chat_chunk(tool_calls=[call], role="assistant"), chat_chunk(finish_reason="tool_calls")]


def test_exec_json_completes_a_tool_turn_through_serve(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.expect_chat_stream(CHAT, tool_call_chunks("call_1", {"cmd": "echo served-ok"}))
    fake_server.expect_chat_stream(
        CHAT,
        [
            chat_chunk("The command printed served-ok.", role="assistant"),
            chat_chunk(finish_reason="stop"),
        ],
    )
    work = tmp_path / "work"
    work.mkdir()
    with running_serve(fake_server, tmp_path / "serve-home", store="memory") as serve:
        home = tmp_path / "home"
        exec_config(home, serve.base_url)
        result = run_cli(
            ["exec", "--json", "--skip-git-repo-check", "--yolo", "run it"],
            codex_home=home,
            cwd=work,
        )
    assert result.returncode == 0, result.stderr
    events = result.events()
    kinds = [e["type"] for e in events]
    assert kinds[0] == "thread.started" and kinds[-1] == "turn.completed"
    done = [e["item"] for e in events if e["type"] == "item.completed"]
    command = next(item for item in done if item["type"] == "command_execution")
    assert command["exit_code"] == 0 and "served-ok" in command["aggregated_output"]
    assert done[-1] == {
        **done[-1],
        "type": "agent_message",
        "text": "The command printed served-ok.",
    }
    # exec's second request carried the tool output; serve turned it into a chat `tool` message.
    second = fake_server.requests[1].json()["messages"]
    tool_message = next(m for m in second if m["role"] == "tool")
    assert tool_message["tool_call_id"] == "call_1" and "served-ok" in tool_message["content"]
    assert any(m.get("tool_calls") for m in second if m["role"] == "assistant")


def test_serve_command_runs_until_sigterm(fake_server: FakeModelServer, tmp_path: Path) -> None:
    fake_server.expect_json("/v1/models", {"object": "list", "data": [{"id": "m"}]})
    env = cli_env(tmp_path, DOWNSTREAM_KEY="sk-down", SERVE_TOKEN="tok")
    argv = [
        sys.executable, "-m", "pycodex.cli.serve_command",
        "--downstream-url", fake_server.base_url, "--provider-kind", "llama.cpp",
        "--api-key-env", "DOWNSTREAM_KEY", "--auth-token-env", "SERVE_TOKEN",
        "--port", "0", "--store", "memory",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        assert "listening on http://127.0.0.1:" in banner and "kind llamacpp" in banner
        base_url = banner.split("listening on ", 1)[1].split()[0]
        models = httpx.get(f"{base_url}/models", headers={"authorization": "Bearer tok"})
        assert models.json()["data"][0]["id"] == "m"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "GET /v1/models 200" in rest
    assert "sk-down" not in banner + rest and "tok" not in rest.replace("token", "")
    assert fake_server.requests[0].headers["authorization"] == "Bearer sk-down"


def test_serve_command_usage_errors_exit_2(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pycodex.cli.serve_command", *args],
            env=cli_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
        )

    neither = run()
    assert neither.returncode == 2
    assert "exactly one of --downstream-url and --provider" in neither.stderr
    bad_kind = run("--downstream-url", "http://127.0.0.1:9/v1", "--provider-kind", "tgi")
    assert bad_kind.returncode == 2 and "unknown provider kind" in bad_kind.stderr
    no_key = run("--downstream-url", "http://127.0.0.1:9/v1", "--api-key-env", "NOT_SET_ANYWHERE")
    assert no_key.returncode == 2 and "NOT_SET_ANYWHERE is not set" in no_key.stderr
    (tmp_path / "config.toml").write_text(
        '[model_providers.local]\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n'
    )
    responses_provider = run("--provider", "local")
    assert (
        responses_provider.returncode == 2
        and "already speaks the Responses API" in responses_provider.stderr
    )
