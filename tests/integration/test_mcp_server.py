"""`pycodex mcp-server` driven by the `mcp` SDK's own client over stdio, against the scripted
fake model: `codex` starts a session, `codex-reply` continues it."""

from __future__ import annotations

import sys
from pathlib import Path

from mcp import Client, StdioServerParameters

from support import sse_builders as sse
from support.cli import cli_env, write_config
from support.fake_server import FakeModelServer, user_message_contains

RESPONSES = "/v1/responses"


async def test_codex_and_codex_reply_over_mcp(fake_server: FakeModelServer, tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    write_config(home, fake_server)
    fake_server.expect_sse(
        RESPONSES, sse.assistant_reply("FIRST-ANSWER"), when=user_message_contains("first ask")
    )
    fake_server.expect_sse(
        RESPONSES, sse.assistant_reply("SECOND-ANSWER"), when=user_message_contains("follow up")
    )
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "pycodex", "mcp-server"], env=cli_env(home), cwd=work
    )
    async with Client(params, mode="legacy") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {"codex", "codex-reply"}
        assert tools["codex"].input_schema["required"] == ["prompt"]
        assert {"prompt", "model", "approval-policy", "sandbox", "config", "cwd"} <= set(
            tools["codex"].input_schema["properties"]
        )
        assert tools["codex-reply"].output_schema == tools["codex"].output_schema

        first = await client.call_tool(
            "codex", {"prompt": "first ask", "model": "picked-model", "sandbox": "read-only"}
        )
        assert not first.is_error, first
        assert first.structured_content is not None
        thread_id = first.structured_content["threadId"]
        assert first.structured_content == {"threadId": thread_id, "content": "FIRST-ANSWER"}
        assert first.content[0].text == "FIRST-ANSWER"  # type: ignore[union-attr]

        second = await client.call_tool(
            "codex-reply", {"threadId": thread_id, "prompt": "follow up"}
        )
        assert second.structured_content == {"threadId": thread_id, "content": "SECOND-ANSWER"}

        unknown = await client.call_tool("codex-reply", {"threadId": "nope", "prompt": "x"})
        assert unknown.is_error

    first_request, second_request = fake_server.requests
    assert first_request.json()["model"] == "picked-model"
    texts = str(second_request.json()["input"])
    assert "first ask" in texts and "FIRST-ANSWER" in texts and "follow up" in texts
    assert second_request.headers["session-id"] == thread_id
