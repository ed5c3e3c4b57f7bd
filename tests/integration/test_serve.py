"""`pycodex serve` end to end: `pycodex exec` through it, and the command as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

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


def serve_argv(downstream: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pycodex.cli.serve_command", "--downstream-url", downstream,
        "--port", "0", *extra,
    ]  # fmt: skip


def run_serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        serve_argv("http://127.0.0.1:9/v1", *args),
        env=cli_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "::", "192.0.2.7"):
        refused = run_serve(tmp_path, "--host", host)
        assert refused.returncode == 2
        lines = refused.stderr.splitlines()
        assert len(lines) == 1 and "needs --auth-token-env" in lines[0] and host in lines[0]


@pytest.mark.parametrize("content", [b"", b"00" * 16])
def test_a_malformed_signing_key_is_one_line_and_exit_2(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "serve").mkdir()
    (tmp_path / "serve" / "secret").write_bytes(content)
    for workers in ("1", "2"):
        result = run_serve(tmp_path, "--workers", workers)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: the signing key ")
        assert len(result.stderr.splitlines()) == 1, result.stderr


def test_workers_need_the_shared_store(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--workers", "2", "--store", "memory")
    assert result.returncode == 2 and "--workers needs --store sqlite" in result.stderr


def children_of(pid: int) -> set[int]:
    found = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.add(int(stat_file.parent.name))
    return found


def start_workers(
    fake_server: FakeModelServer, tmp_path: Path
) -> tuple[subprocess.Popen[str], str]:
    argv = serve_argv(fake_server.base_url, "--workers", "2", "--provider-kind", "vllm")
    proc = subprocess.Popen(argv, env=cli_env(tmp_path), stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    banner = proc.stderr.readline()
    assert "listening on http://127.0.0.1:" in banner and "2 workers" in banner, banner
    return proc, banner.split("listening on ", 1)[1].split()[0]


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_workers_share_the_port_and_the_store(
    fake_server: FakeModelServer, tmp_path: Path, stop_with: signal.Signals
) -> None:
    turns = 16
    for index in range(turns):
        fake_server.expect_chat_stream(CHAT, [chat_chunk(f"a{index}"), chat_chunk(finish_reason="stop")])  # fmt: skip
    proc, base_url = start_workers(fake_server, tmp_path)
    try:
        workers = children_of(proc.pid)
        assert len(workers) == 2
        previous = None
        for index in range(turns):
            # A new connection each time: the kernel picks the worker, the chain crosses them.
            body = {"model": "m", "input": f"q{index}", "previous_response_id": previous}
            response = httpx.post(
                f"{base_url}/responses", json=body, headers={"connection": "close"}
            )
            assert response.status_code == 200, response.text
            previous = response.json()["id"]
    finally:
        proc.send_signal(stop_with)
        _, log = proc.communicate(timeout=60)
    assert proc.returncode == 0, log
    served_by = {int(line.split("[", 1)[1].split("]")[0]) for line in log.splitlines() if "POST /v1/responses 200" in line}  # fmt: skip
    assert served_by == workers
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    contents = [m["content"] for m in fake_server.requests[-1].json()["messages"]]
    assert len(contents) == 2 * turns - 1


def test_stopping_workers_lets_a_stream_in_flight_finish(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    words = [chat_chunk(f"w{i} ") for i in range(5)]
    fake_server.expect_chat_stream(CHAT, [*words, chat_chunk(finish_reason="stop")], delay_s=0.1)
    proc, base_url = start_workers(fake_server, tmp_path)
    try:
        body = {"model": "m", "input": "go", "stream": True}
        with httpx.stream("POST", f"{base_url}/responses", json=body, timeout=30) as response:
            chunks = response.iter_raw()
            received = next(chunks)  # the stream has begun...
            proc.send_signal(signal.SIGTERM)  # ...when the server is told to stop
            received += b"".join(chunks)
    finally:
        _, log = proc.communicate(timeout=60)
    assert proc.returncode == 0, log
    assert b"event: response.completed" in received and b"w4 " in received


def test_a_worker_that_dies_stops_the_server(fake_server: FakeModelServer, tmp_path: Path) -> None:
    proc, _ = start_workers(fake_server, tmp_path)
    try:
        workers = children_of(proc.pid)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        _, log = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1
    assert f"worker process {victim} exited with code -9" in log
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
