"""`pycodex exec` talking Chat Completions and Anthropic Messages natively, end to end.

The CLI runs as a subprocess against the fake server scripted with downstream answers; the
assertions cover the public JSONL events and every downstream request body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support import downstream_builders as down
from support.cli import API_KEY, cli_env, run_cli, write_config
from support.fake_server import FakeModelServer

BASE = ["exec", "--skip-git-repo-check", "--json"]
CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
PATCH = "*** Begin Patch\n*** Add File: notes.txt\n+hello\n*** End Patch\n"


def home_for(tmp_path: Path, server: FakeModelServer, wire_api: str) -> Path:
    codex_home = tmp_path / "codex-home"
    write_config(codex_home, server, extra=f'wire_api = "{wire_api}"')
    return codex_home


def completed_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "item.completed"]


def assert_multi_tool_turn(events: list[dict[str, Any]], work: Path) -> None:
    items = completed_items(events)
    kinds = [item["type"] for item in items]
    assert kinds == ["file_change", "command_execution", "agent_message"], events
    assert items[0]["changes"] == [{"path": str(work / "notes.txt"), "kind": "add"}]
    assert items[1]["aggregated_output"] == "hello\n" and items[1]["exit_code"] == 0
    assert items[2]["text"] == "Wrote notes.txt."
    assert events[-1]["type"] == "turn.completed"
    assert (work / "notes.txt").read_text() == "hello\n"


def test_chat_wire_api_completes_a_multi_tool_turn(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "chat")
    fake_server.expect_chat_stream(
        CHAT,
        down.chat_tool_calls(
            ("a1", "apply_patch", json.dumps({"input": PATCH})),
            ("e1", "exec_command", json.dumps({"cmd": "cat notes.txt", "login": False})),
        ),
    )
    fake_server.expect_chat_stream(CHAT, down.chat_text("Wrote notes.txt."))
    result = run_cli([*BASE, "--full-auto", "write notes"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert_multi_tool_turn(result.events(), work)
    assert result.events()[-1]["usage"] == {
        "input_tokens": 20,
        "cached_input_tokens": 0,
        "cache_write_input_tokens": 0,
        "output_tokens": 10,
        "reasoning_output_tokens": 0,
    }
    first, second = (request.json() for request in fake_server.requests)
    assert first["model"] == "test-model" and first["stream"] is True
    tools = {tool["function"]["name"]: tool["function"] for tool in first["tools"]}
    assert tools["apply_patch"]["parameters"]["required"] == ["input"]
    assert fake_server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assistant = next(m for m in second["messages"] if m.get("tool_calls"))
    calls = {call["id"]: call["function"] for call in assistant["tool_calls"]}
    # The freeform call goes back wrapped, exactly as the model sent it.
    assert json.loads(calls["a1"]["arguments"]) == {"input": PATCH}
    outputs = {m["tool_call_id"]: m["content"] for m in second["messages"] if m["role"] == "tool"}
    assert "Success. Updated the following files:\nA notes.txt" in outputs["a1"]
    assert "Process exited with code 0" in outputs["e1"] and "hello" in outputs["e1"]


def test_messages_wire_api_completes_a_multi_tool_turn(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "messages")
    fake_server.expect_stream(
        MESSAGES,
        down.messages_stream(
            down.tool_use_block("tu_a", "apply_patch", {"input": PATCH}),
            down.tool_use_block("tu_e", "exec_command", {"cmd": "cat notes.txt", "login": False}),
            stop_reason="tool_use",
        ),
    )
    fake_server.expect_stream(
        MESSAGES,
        down.messages_stream(
            down.text_block("Wrote notes.txt."), cache_read_tokens=6, cache_write_tokens=7
        ),
    )
    result = run_cli([*BASE, "--full-auto", "write notes"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert_multi_tool_turn(result.events(), work)
    # Anthropic counts cached and cache-written tokens apart from input_tokens; both are input.
    assert result.events()[-1]["usage"] == {
        "input_tokens": 33,
        "cached_input_tokens": 6,
        "cache_write_input_tokens": 7,
        "output_tokens": 10,
        "reasoning_output_tokens": 0,
    }
    headers = fake_server.requests[0].headers
    assert headers["x-api-key"] == API_KEY and headers["anthropic-version"] == "2023-06-01"
    second = fake_server.requests[1].json()
    assert second["max_tokens"] == 32000
    messages = second["messages"]
    uses = [b for b in messages[-2]["content"] if b["type"] == "tool_use"]
    assert messages[-2]["role"] == "assistant"
    assert [(u["id"], u["name"]) for u in uses] == [
        ("tu_a", "apply_patch"),
        ("tu_e", "exec_command"),
    ]
    assert uses[0]["input"] == {"input": PATCH}
    results = messages[-1]["content"]
    assert messages[-1]["role"] == "user"
    assert [b["tool_use_id"] for b in results] == ["tu_a", "tu_e"]
    assert all(b["type"] == "tool_result" for b in results)


def test_reasoning_only_answer_is_retried_silently(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "chat")
    fake_server.expect_chat_stream(CHAT, down.chat_reasoning_only("thinking..."))
    fake_server.expect_chat_stream(CHAT, down.chat_text("Fine."))
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert [e["type"] for e in result.events()] == [
        "thread.started",
        "turn.started",
        "item.completed",
        "turn.completed",
    ]
    assert completed_items(result.events())[0]["text"] == "Fine."


def test_reasoning_only_twice_fails_the_turn(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "chat")
    fake_server.expect_chat_stream(CHAT, down.chat_reasoning_only())
    fake_server.expect_chat_stream(CHAT, down.chat_reasoning_only())
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 1
    message = "model_output_invalid: the model answered with reasoning only, twice"
    assert result.events()[-1] == {"type": "turn.failed", "error": {"message": message}}
    assert len(fake_server.requests) == 2  # not retried by the turn: the answer is unusable


VLLM_CONTEXT_ERROR = {
    "object": "error",
    "message": "This model's maximum context length is 4096 tokens. However, you requested "
    "9000 tokens (8000 in the messages, 1000 in the completion). Please reduce the length.",
    "type": "BadRequestError",
    "code": 400,
}


def test_vllm_context_length_400_leads_to_compaction(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "chat")
    # A long command output fills the context; the follow-up request no longer fits.
    long_output = json.dumps({"cmd": "seq 1 3000", "login": False})
    fake_server.expect_chat_stream(CHAT, down.chat_tool_calls(("e1", "exec_command", long_output)))
    fake_server.expect_error(CHAT, 400, VLLM_CONTEXT_ERROR)
    fake_server.expect_chat_stream(CHAT, down.chat_text("Summary of the work so far."))
    fake_server.expect_chat_stream(CHAT, down.chat_text("Answered after compaction."))
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert completed_items(result.events())[-1]["text"] == "Answered after compaction."
    # Only a context-window error starts compaction: the third request is the summary request.
    summary_request = fake_server.requests[2].json()
    assert "tools" not in summary_request
    compaction = next(
        i for i in completed_items(result.events()) if i["type"] == "context_compaction"
    )
    assert compaction["phase"] == "overflow"
    assert compaction["tokens_after"] < compaction["tokens_before"]


def test_vllm_context_length_400_fails_when_compaction_cannot_help(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "chat")
    fake_server.expect_error(CHAT, 400, VLLM_CONTEXT_ERROR)
    fake_server.expect_error(CHAT, 400, VLLM_CONTEXT_ERROR)
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 1
    out_of_room = (
        "Codex ran out of room in the model's context window: compacting the history did not "
        "make it fit. Start a new thread or clear earlier history before retrying."
    )
    events = result.events()
    assert events[-2:] == [
        {"type": "error", "message": out_of_room},
        {"type": "turn.failed", "error": {"message": out_of_room}},
    ]
    # What the server said is reported once, as the reason compaction failed.
    (failed,) = [i for i in completed_items(events) if i["type"] == "error"]
    assert failed["message"].startswith("context compaction failed: ")
    assert failed["message"].count("maximum context length is 4096") == 1


def test_chat_http_errors_are_retried(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "chat")
    fake_server.expect_error(CHAT, 429, "slow down", headers={"retry-after": "0.01"})
    for _ in range(3):  # request_max_retries = 2: three HTTP attempts, then one turn retry
        fake_server.expect_error(CHAT, 500, "boom")
    fake_server.expect_chat_stream(CHAT, down.chat_text("finally"))
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    errors = [e["message"] for e in result.events() if e["type"] == "error"]
    # The 429 wait is shown, the quick 5xx retries are not; one counter for the whole turn.
    assert errors == [
        "Reconnecting... 1/2 (exceeded retry limit, last status: 429 Too Many Requests)",
        "Reconnecting... 2/2 (unexpected status 500: boom)",
    ]
    assert completed_items(result.events())[-1]["text"] == "finally"


def test_chat_429_without_retry_after_fails(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "chat")
    for _ in range(3):
        fake_server.expect_error(CHAT, 429, {"error": {"message": "slow"}})
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 1
    message = "exceeded retry limit, last status: 429 Too Many Requests"
    assert result.events()[-1] == {"type": "turn.failed", "error": {"message": message}}


def test_vllm_endpoint_reads_the_model_from_the_server(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "responses")
    models = {"object": "list", "data": [{"id": "Qwen/Qwen3-8B"}, {"id": "other"}]}
    fake_server.expect_json("/v1/models", models)
    fake_server.expect_chat_stream(CHAT, down.chat_text("hello from vllm"))
    # A bare origin: `/v1` is added, as vLLM serves the API there.
    args = [*BASE, "--vllm-endpoint", fake_server.origin, "hi"]
    result = run_cli(args, codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    request = fake_server.requests[1]
    assert request.json()["model"] == "Qwen/Qwen3-8B"
    assert "authorization" not in request.headers  # vLLM without --api-key needs no key


def test_local_provider_with_model_flag_skips_discovery(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "responses")
    fake_server.expect_chat_stream(CHAT, down.chat_text("hi"))
    env = cli_env(home, CODEX_OSS_BASE_URL=fake_server.base_url)
    args = [*BASE, "--local-provider", "llama.cpp", "-m", "local-gguf", "hi"]
    result = run_cli(args, codex_home=home, cwd=work, env=env)
    assert result.returncode == 0, result.stderr
    assert [r.path for r in fake_server.requests] == [CHAT]
    assert fake_server.requests[0].json()["model"] == "local-gguf"


def test_oss_without_a_model_list_is_a_clear_error(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = home_for(tmp_path, fake_server, "responses")
    fake_server.expect_json("/v1/models", {"error": "not found"}, status=404)
    env = cli_env(home, CODEX_OSS_BASE_URL=fake_server.base_url)
    result = run_cli([*BASE, "--oss", "hi"], codex_home=home, cwd=work, env=env)
    assert result.returncode == 2
    assert "cannot choose a model for provider 'oss'" in result.stderr
    assert "-m MODEL" in result.stderr


def test_bad_vllm_endpoint_is_a_usage_error(tmp_path: Path, work: Path) -> None:
    result = run_cli(
        [*BASE, "--vllm-endpoint", "localhost:8000", "hi"], codex_home=tmp_path, cwd=work
    )
    assert result.returncode == 2
    assert "--vllm-endpoint expects an http:// or https:// URL" in result.stderr
