"""MCP servers through `pycodex exec`: real servers (the probe server on the `mcp` SDK, over
stdio and streamable HTTP), the scripted fake model, everything on 127.0.0.1.

Each run starts real server processes, so one run checks as much as it can: the tools the model
is offered, a round trip for every kind of result, the `mcp_tool_call` items, approval gating,
a timeout, the server's environment, and that no server process outlives `exec`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support import sse_builders as sse
from support.cli import cli_env, run_cli, write_config
from support.fake_server import FakeModelServer, RecordedRequest
from support.mcp_servers import (
    EVERYTHING,
    http_probe,
    logged_calls,
    probe_table,
    process_alive,
    table,
)

BASE = ["exec", "--skip-git-repo-check"]
RESPONSES = "/v1/responses"
TINY_PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def ns_call(namespace: str, name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {
        **sse.function_call(name, json.dumps(arguments), call_id=call_id),
        "namespace": namespace,
    }


def outputs(request: RecordedRequest) -> dict[str, Any]:
    return {
        item["call_id"]: item["output"]
        for item in request.json()["input"]
        if item.get("type") == "function_call_output"
    }


def wall_time(output: Any) -> str:
    text = output if isinstance(output, str) else output[0]["text"]
    head, _, _ = text.partition("\nOutput:")
    assert head.startswith("Wall time: ") and head.endswith(" seconds"), text
    return text[len(head) :]


def mcp_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("item", {}).get("type") == "mcp_tool_call"]


def test_tools_offered_called_and_reported(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    log = tmp_path / "calls.jsonl"
    servers = probe_table(env={"PROBE_LOG": str(log), "GIVEN": "from-env"}, env_vars=["PASSED"])
    servers += probe_table(
        "my-srv.v2",
        "--weird-names",
        tool_timeout_sec=1,
        default_tools_approval_mode="approve",
        env={"PROBE_LOG": str(log)},
    )
    write_config(home, fake_server, servers)
    calls = [
        ns_call("mcp__probe", "echo", {"text": "hello-ns"}, "c_echo"),
        ns_call("mcp__probe", "add", {"a": 40, "b": 2}, "c_add"),
        ns_call("mcp__probe", "tiny_image", {}, "c_image"),
        ns_call("mcp__probe", "fail", {}, "c_fail"),
        ns_call("mcp__probe", "write_note", {"note": "x"}, "c_write"),
        ns_call("mcp__probe", "env", {"name": "GIVEN"}, "c_env_given"),
        ns_call("mcp__probe", "env", {"name": "PASSED"}, "c_env_passed"),
        ns_call("mcp__probe", "env", {"name": "NOT_PASSED"}, "c_env_not"),
        ns_call("mcp__my_srv_v2", "slow", {"seconds": 30}, "c_slow"),
        ns_call("mcp__my_srv_v2", "read_file", {"value": "v"}, "c_weird"),
        {**sse.function_call("mcp__probe__echo", "{}", call_id="c_flat")},
    ]
    fake_server.expect_sse(RESPONSES, sse.tool_calls(*calls))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("DONE"))
    env = cli_env(home, PASSED="passed-through", NOT_PASSED="secret")
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work, env=env)
    assert result.returncode == 0, result.stdout + result.stderr

    first = fake_server.requests[0].json()
    names = [tool.get("name") for tool in first["tools"]]
    assert names[:2] == ["exec_command", "write_stdin"]
    assert names[2:5] == ["list_mcp_resources", "list_mcp_resource_templates", "read_mcp_resource"]
    namespaces = [tool for tool in first["tools"] if tool["type"] == "namespace"]
    assert [ns["name"] for ns in namespaces] == ["multi_agent_v1", "mcp__my_srv_v2", "mcp__probe"]
    probe = namespaces[2]
    assert [tool["name"] for tool in probe["tools"]] == [
        "add", "echo", "env", "fail", "slow", "tiny_image", "write_note",
    ]  # fmt: skip
    echo = next(tool for tool in probe["tools"] if tool["name"] == "echo")
    assert echo == {
        "type": "function",
        "name": "echo",
        "description": "Echo the text back.",
        "strict": False,
        "parameters": {
            "properties": {"text": {"description": "What to echo.", "type": "string"}},
            "required": ["text"],
            "type": "object",
        },
    }
    weird = [tool["name"] for tool in namespaces[1]["tools"]]
    assert weird[:3] == ["Upper_Case", "add", "echo"] and "get_weather" in weird
    assert "read_file" in weird and "read-file" not in weird

    out = outputs(fake_server.requests[1])
    assert out["c_echo"][1:] == [{"type": "input_text", "text": "echo: hello-ns"}]
    assert wall_time(out["c_echo"]) == "\nOutput:"
    assert isinstance(out["c_add"], str)
    assert wall_time(out["c_add"]) == '\nOutput:\n{"sum":42,"note":"added"}'
    assert out["c_image"][1:] == [
        {"type": "input_text", "text": "here is the image"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{TINY_PNG_B64}"},
    ]
    assert out["c_fail"][1:] == [
        {"type": "input_text", "text": "Error executing tool fail: tool failed: nope"}
    ]
    refusal = "MCP tool call requires approval, but approval policy is never"
    assert out["c_write"][1:] == [{"type": "input_text", "text": refusal}]
    assert out["c_env_given"][1]["text"] == "GIVEN=from-env"
    assert out["c_env_passed"][1]["text"] == "PASSED=passed-through"
    assert out["c_env_not"][1]["text"] == "NOT_PASSED=<unset>"
    timeout = (
        "tool call error: tool call failed for `my-srv.v2/slow`\n\nCaused by:\n"
        "    timed out awaiting tools/call after 1000ms"
    )
    assert out["c_slow"][1:] == [{"type": "input_text", "text": timeout}]
    assert out["c_weird"][1]["text"] == "read-file: v"
    assert out["c_flat"] == "unsupported call: mcp__probe__echo"

    items = mcp_items(result.events())
    started = {e["item"]["id"]: e["item"] for e in items if e["type"] == "item.started"}
    done = {e["item"]["id"]: e["item"] for e in items if e["type"] == "item.completed"}
    assert set(started) == set(done) and len(done) == 10
    by_tool = {(i["server"], i["tool"], json.dumps(i["arguments"])): i for i in done.values()}
    echo_item = by_tool[("probe", "echo", '{"text": "hello-ns"}')]
    assert started[echo_item["id"]] == {
        **echo_item,
        "result": None,
        "error": None,
        "status": "in_progress",
    }
    assert echo_item == {
        "id": echo_item["id"],
        "type": "mcp_tool_call",
        "server": "probe",
        "tool": "echo",
        "arguments": {"text": "hello-ns"},
        "result": {
            "content": [{"type": "text", "text": "echo: hello-ns"}],
            "structured_content": None,
        },
        "error": None,
        "status": "completed",
    }
    add_item = by_tool[("probe", "add", '{"a": 40, "b": 2}')]
    assert add_item["result"]["structured_content"] == {"sum": 42, "note": "added"}
    assert add_item["status"] == "completed"
    fail_item = by_tool[("probe", "fail", "{}")]
    assert (fail_item["status"], fail_item["error"]) == ("failed", None)
    assert fail_item["result"]["content"][0]["text"].endswith("tool failed: nope")
    write_item = by_tool[("probe", "write_note", '{"note": "x"}')]
    assert write_item["result"] is None and write_item["status"] == "failed"
    assert write_item["error"] == {"message": refusal}
    slow_item = by_tool[("my-srv.v2", "slow", '{"seconds": 30}')]
    assert slow_item["error"] == {"message": timeout}
    assert ("my-srv.v2", "read-file", '{"value": "v"}') in by_tool

    logged = logged_calls(log)
    assert "write_note" not in [call["tool"] for call in logged]  # refused before the server
    # tools/call carries upstream's `_meta`: the call id, and the turn's identity exactly as the
    # model request of that turn sent it.
    echo_meta = next(call["meta"] for call in logged if call["tool"] == "echo")
    headers = fake_server.requests[0].headers
    thread_id = result.events()[0]["thread_id"]
    assert headers["thread-id"] == thread_id
    turn_metadata = json.loads(headers["x-codex-turn-metadata"])
    assert echo_meta == {
        "callId": "c_echo",
        "x-codex-turn-metadata": turn_metadata,
        "threadId": thread_id,
        "sessionId": headers["session-id"],
        "windowId": headers["x-codex-window-id"],
    }
    assert turn_metadata["turn_id"] and turn_metadata["thread_id"] == thread_id
    pids = {call["pid"] for call in logged}
    assert len(pids) == 2
    assert [pid for pid in pids if process_alive(pid)] == []  # no server outlives exec


def test_human_output_names_server_and_tool(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    write_config(home, fake_server, probe_table())
    fake_server.expect_sse(
        RESPONSES, sse.tool_calls(ns_call("mcp__probe", "echo", {"text": "hi"}, "c1"))
    )
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("DONE"))
    result = run_cli([*BASE, "--color", "never", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert "\nmcp: probe/echo started\nmcp: probe/echo (completed)\n" in result.stderr
    assert result.stdout == "DONE\n"


def test_failing_servers_are_reported_and_a_required_one_ends_exec(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    broken = table("broken", command="/nonexistent/mcp-server")
    crashing = table("crashing", command="sh", args=["-c", "echo boom >&2; exit 3"])
    silent = table("silent", command="sh", args=["-c", "exec sleep 30"], startup_timeout_sec=0.5)
    write_config(home, fake_server, broken + crashing + silent)
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("STILL-RAN"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    events = result.events()
    assert events[0]["type"] == "thread.started"
    errors = [e["item"]["message"] for e in events if e.get("item", {}).get("type") == "error"]
    assert errors == [
        "MCP server `broken` failed to start: No such file or directory: /nonexistent/mcp-server"
        "; its tools are left out",
        "MCP server `crashing` failed to start: Connection closed (server stderr: boom)"
        "; its tools are left out",
        "MCP server `silent` failed to start: timed out after 0.5s waiting for the server to "
        "start; its tools are left out",
    ]
    tools = fake_server.requests[0].json()["tools"]
    assert not [tool for tool in tools if tool["name"].startswith("mcp__")]

    required = table("broken", command="/nonexistent/mcp-server", required=True)
    write_config(home, fake_server, required)
    before = len(fake_server.requests)
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "ERROR: required MCP servers failed to initialize: broken: "
        "No such file or directory: /nonexistent/mcp-server"
    )
    assert len(fake_server.requests) == before  # no model request was made


def test_catalog_model_finds_mcp_tools_through_tool_search(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    write_config(home, fake_server, probe_table())
    text = (home / "config.toml").read_text()
    (home / "config.toml").write_text(text.replace('model = "test-model"', 'model = "gpt-5.5"'))
    search = {
        "type": "tool_search_call",
        "id": "tsc_1",
        "call_id": "ts_1",
        "status": "completed",
        "execution": "client",
        "arguments": {"query": "echo text"},
    }
    fake_server.expect_sse(RESPONSES, sse.tool_calls(search))
    fake_server.expect_sse(
        RESPONSES, sse.tool_calls(ns_call("mcp__probe", "echo", {"text": "found"}, "c1"))
    )
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("DONE"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    first = fake_server.requests[0].json()
    assert [t for t in first["tools"] if t["type"] == "namespace"] == []
    assert [t["type"] for t in first["tools"]].count("tool_search") == 1
    second = fake_server.requests[1].json()["input"]
    found = next(item for item in second if item["type"] == "tool_search_output")
    (namespace,) = found["tools"]
    assert namespace["name"] == "mcp__probe"
    assert [(t["name"], t["defer_loading"]) for t in namespace["tools"]] == [("echo", True)]
    assert outputs(fake_server.requests[2])["c1"][1]["text"] == "echo: found"


def test_chat_wire_flattens_mcp_tools_and_maps_calls_back(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    from support.sse_builders import chat_chunk

    home = tmp_path / "home"
    write_config(home, fake_server, probe_table())
    text = (home / "config.toml").read_text()
    text = text.replace('env_key = "FAKE_API_KEY"', 'env_key = "FAKE_API_KEY"\nwire_api = "chat"')
    (home / "config.toml").write_text(text)
    chat = "/v1/chat/completions"
    function = {"name": "mcp__probe__add", "arguments": json.dumps({"a": 1, "b": 2})}
    delta = {"index": 0, "id": "c_add", "type": "function", "function": function}
    fake_server.expect_chat_stream(
        chat,
        [chat_chunk(tool_calls=[delta], role="assistant"), chat_chunk(finish_reason="tool_calls")],
    )
    fake_server.expect_chat_stream(
        chat, [chat_chunk("DONE", role="assistant"), chat_chunk(finish_reason="stop")]
    )
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    names = [tool["function"]["name"] for tool in fake_server.requests[0].json()["tools"]]
    assert "mcp__probe__add" in names and "mcp__probe__echo" in names
    tool_messages = [m for m in fake_server.requests[1].json()["messages"] if m["role"] == "tool"]
    assert tool_messages[0]["content"].endswith('Output:\n{"sum":3,"note":"added"}')
    (item,) = [e["item"] for e in mcp_items(result.events()) if e["type"] == "item.completed"]
    assert (item["server"], item["tool"], item["status"]) == ("probe", "add", "completed")


def test_streamable_http_server_with_a_bearer_token(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    home = tmp_path / "home"
    with http_probe(token="tok-123") as url:
        servers = table("web", url=url, bearer_token_env_var="WEB_TOKEN", startup_timeout_sec=60)
        write_config(home, fake_server, servers)
        fake_server.expect_sse(
            RESPONSES, sse.tool_calls(ns_call("mcp__web", "echo", {"text": "over http"}, "c1"))
        )
        fake_server.expect_sse(RESPONSES, sse.assistant_reply("DONE"))
        env = cli_env(home, WEB_TOKEN="tok-123")
        result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert outputs(fake_server.requests[1])["c1"][1]["text"] == "echo: over http"

        fake_server.expect_sse(RESPONSES, sse.assistant_reply("DONE"))
        wrong = run_cli(
            [*BASE, "--json", "go"], codex_home=home, cwd=work, env=cli_env(home, WEB_TOKEN="x")
        )
        assert wrong.returncode == 0, wrong.stderr
        errors = [
            e["item"]["message"] for e in wrong.events() if e.get("item", {}).get("type") == "error"
        ]
        assert len(errors) == 1 and errors[0].startswith("MCP server `web` failed to start: ")


def test_server_everything_from_npm(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    """The reference server of the MCP project (Node.js, installed by scripts/setup)."""
    assert EVERYTHING.is_dir(), "run scripts/setup: it installs the npm MCP servers the tests use"
    home = tmp_path / "home"
    entry = str(EVERYTHING / "dist" / "index.js")
    write_config(home, fake_server, table("everything", command="node", args=[entry, "stdio"],
                                          startup_timeout_sec=60))  # fmt: skip
    calls = [
        ns_call("mcp__everything", "get_sum", {"a": 2, "b": 3}, "c_sum"),
        ns_call("mcp__everything", "get_tiny_image", {}, "c_image"),
        {
            **sse.function_call(
                "list_mcp_resources", json.dumps({"server": "everything"}), call_id="c_list"
            )
        },
    ]
    uri = "demo://resource/static/document/architecture.md"
    read = {"server": "everything", "uri": uri}
    calls.append(sse.function_call("read_mcp_resource", json.dumps(read), call_id="c_read"))
    fake_server.expect_sse(RESPONSES, sse.tool_calls(*calls))
    fake_server.expect_sse(RESPONSES, sse.assistant_reply("DONE"))
    result = run_cli([*BASE, "--json", "go"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr

    tools = fake_server.requests[0].json()["tools"]
    (namespace,) = [tool for tool in tools if tool.get("name") == "mcp__everything"]
    names = [tool["name"] for tool in namespace["tools"]]
    assert names == sorted(names) and {"echo", "get_sum", "get_tiny_image"} <= set(names)
    get_sum = next(tool for tool in namespace["tools"] if tool["name"] == "get_sum")
    assert get_sum["parameters"]["properties"]["a"] == {
        "type": "number",
        "description": "First number",
    }
    assert get_sum["parameters"]["required"] == ["a", "b"]

    out = outputs(fake_server.requests[1])
    assert out["c_sum"][1:] == [{"type": "input_text", "text": "The sum of 2 and 3 is 5."}]
    assert [part["type"] for part in out["c_image"][1:]][:2] == ["input_text", "input_image"]
    assert out["c_image"][2]["image_url"].startswith("data:image/png;base64,")
    listing = json.loads(out["c_list"])
    assert listing["server"] == "everything" and listing["resources"]
    assert "ttlMs" not in listing
    resource = json.loads(out["c_read"])
    assert (resource["server"], resource["uri"], resource["contents"][0]["uri"]) == (
        "everything", uri, uri,
    )  # fmt: skip
    assert resource["contents"][0]["text"]
    done = [e["item"] for e in mcp_items(result.events()) if e["type"] == "item.completed"]
    assert sorted((i["server"], i["tool"], i["status"]) for i in done) == [
        ("everything", "get-sum", "completed"),
        ("everything", "get-tiny-image", "completed"),
        ("everything", "list_mcp_resources", "completed"),
        ("everything", "read_mcp_resource", "completed"),
    ]


def test_debug_prompt_lists_the_mcp_tools(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    import sys

    home = tmp_path / "home"
    stdlib = Path(__file__).resolve().parents[1] / "support" / "mcp_stdlib_server.py"
    write_config(home, fake_server, table("ping", command=sys.executable, args=[str(stdlib)]))
    result = run_cli(["debug", "prompt", "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    tools = json.loads(result.stdout)["tools"]
    (namespace,) = [tool for tool in tools if tool.get("name") == "mcp__ping"]
    assert [tool["name"] for tool in namespace["tools"]] == ["ping"]
    assert fake_server.requests == []  # nothing was sent


def test_ctrl_c_while_servers_start_ends_exec_and_stops_them(
    fake_server: FakeModelServer, tmp_path: Path, work: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    home = tmp_path / "home"
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    silent = table(
        "silent", command="sh", args=["-c", f"echo $$ > {fifo}; exec sleep 60"],
        startup_timeout_sec=60,
    )  # fmt: skip
    write_config(home, fake_server, silent)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pycodex", *BASE, "--json", "go"],
        cwd=work, env=cli_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with open(fifo) as started:  # blocks until the server process runs
        pid = int(started.read().strip())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert err.strip().splitlines()[-1] == "ERROR: interrupted while the MCP servers were starting"
    assert out == "" and fake_server.requests == []
    assert not process_alive(pid)
