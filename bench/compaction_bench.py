"""A long session in a small window: hundreds of tool calls, kept alive by auto-compaction.

Method: one AgentLoop turn of N tool calls against the fake server, each tool returning ~2 KB.
The fake server answers from the request itself: its reported usage is the request body's size
in tokens (bytes / 4), a request ending with the summarization prompt gets a short summary, any
other gets the next tool call until N calls were made. The same session runs twice in the same
process: with `auto_compact_token_limit` set (a small window) and without (the baseline, where
every request carries the whole history). Reported: request sizes (largest, last) and how many
compactions happened.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bench.common import Table, use_test_support

CALLS = 300
LIMIT_TOKENS = 8_000


async def _session(limit: int | None) -> tuple[list[int], int]:
    from pycodex import AgentLoop, BaseTool, ContextManager, ToolRegistry
    from pycodex.compaction.history import load_prompt
    from pycodex.protocol import events as ev
    from pycodex.protocol.policies import SandboxPolicy
    from support import sse_builders as sse
    from support.clients import fake_client
    from support.fake_server import FakeModelServer

    class Big(BaseTool):
        name = "big"
        description = "Returns a lot of text."
        input_schema = {"type": "object", "properties": {}}

        async def run(self, context: Any, args: Any) -> str:
            return "log line with some detail\n" * 80

    summarize = load_prompt("summarize.md")
    calls_made = 0
    sizes: list[int] = []

    def respond(request: Any) -> list[dict[str, Any]]:
        nonlocal calls_made
        size = len(request.body_bytes)
        sizes.append(size)
        body = json.loads(request.body_bytes)
        last = body["input"][-1]
        usage = sse.completed(input_tokens=size // 4, output_tokens=20)
        if last.get("content") and last["content"][0].get("text") == summarize:
            return [*sse.assistant_reply(f"Summary: {calls_made} calls done.")[:-1], usage]
        if calls_made >= CALLS:
            return [*sse.assistant_reply("all done")[:-1], usage]
        calls_made += 1
        call = sse.function_call("big", "{}", call_id=f"c{calls_made}", id=f"fc{calls_made}")
        return [*sse.tool_calls(call)[:-1], usage]

    compactions = 0

    def count(event: Any) -> None:
        nonlocal compactions
        if isinstance(event, ev.CompactionCompleted):
            compactions += 1

    with FakeModelServer() as server:
        for _ in range(CALLS * 2 + 2):
            server.expect_sse_from("/v1/responses", respond)
        context = ContextManager(base_instructions="bench", cwd=Path.cwd(),
                                 sandbox_policy=SandboxPolicy.read_only())  # fmt: skip
        agent = AgentLoop(fake_client(server), ToolRegistry([Big()]), context, on_event=count)
        agent.state.auto_compact_token_limit = limit
        await agent.run_turn("do many things")
        await agent.aclose()
        server._scripts.clear()
    return sizes, compactions


def run(table: Table) -> None:
    use_test_support()
    compacted, count = asyncio.run(_session(LIMIT_TOKENS))
    baseline, _ = asyncio.run(_session(None))
    table.add(
        f"compaction: {CALLS} tool calls, limit {LIMIT_TOKENS} tokens",
        f"max request {max(compacted) // 1024} KB",
        f"{count} compactions; last request {compacted[-1] // 1024} KB",
    )
    table.add(
        f"compaction: {CALLS} tool calls, no compaction",
        f"max request {max(baseline) // 1024} KB",
        f"{max(baseline) / max(compacted):.0f}x larger than with compaction",
    )
