"""The library surface: the README example runs as written, and the exports are pinned."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pycodex
from pycodex.protocol import exec_events
from support import sse_builders as sse
from support.cli import cli_env, write_config
from support.fake_server import FakeModelServer

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1, "README should hold exactly one Python example"
    return str(blocks[0])


def test_readme_example_runs_as_written(fake_server: FakeModelServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(home, fake_server)
    call = sse.function_call("echo", json.dumps({"text": "hello"}), call_id="c1")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("The echo tool returned hello."))
    script = tmp_path / "example.py"
    script.write_text(readme_example())
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(home),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "The echo tool returned hello.\n"
    outputs = [
        item for item in fake_server.requests[1].json()["input"]
        if item["type"] == "function_call_output"
    ]  # fmt: skip
    assert outputs == [{"type": "function_call_output", "call_id": "c1", "output": "hello"}]


def test_public_names_are_pinned() -> None:
    assert sorted(pycodex.__all__) == [
        "AgentLoop",
        "BaseTool",
        "ContextManager",
        "ResponsesModelClient",
        "ToolContext",
        "ToolError",
        "ToolOutput",
        "ToolRegistry",
        "TurnResult",
        "__version__",
    ]
    for name in pycodex.__all__:
        assert getattr(pycodex, name) is not None


def test_exec_json_schema_is_pinned() -> None:
    """The public `exec --json` contract: a change here breaks SDKs and harnesses."""
    usage = exec_events.ExecUsage(input_tokens=1, cached_input_tokens=0, output_tokens=2)
    examples: list[exec_events.ExecRecord] = [
        exec_events.ThreadStarted(thread_id="t"),
        exec_events.TurnStarted(),
        exec_events.TurnCompleted(usage=usage),
        exec_events.TurnFailed(error=exec_events.TurnError(message="m")),
        exec_events.ThreadError(message="m"),
        exec_events.AgentMessageItem(id="item_0", text="t"),
        exec_events.ReasoningItem(id="item_0", text="t"),
        exec_events.CommandExecutionItem(
            id="item_0", command="ls", aggregated_output="", exit_code=None, status="in_progress"
        ),
        exec_events.FileChangeItem(id="item_0", changes=[], status="completed"),
        exec_events.McpToolCallItem(
            id="item_0",
            server="s",
            tool="t",
            arguments={},
            result=None,
            error=None,
            status="failed",
        ),
        exec_events.WebSearchItem(id="item_0", query="q"),
        exec_events.TodoListItem(id="item_0", items=[]),
        exec_events.ErrorItem(id="item_0", message="m"),
    ]
    emitted = {type(example).__name__: json.loads(example.to_json()) for example in examples}
    fields = {name: list(line) for name, line in emitted.items()}
    assert fields == {
        "ThreadStarted": ["type", "thread_id"],
        "TurnStarted": ["type"],
        "TurnCompleted": ["type", "usage"],
        "TurnFailed": ["type", "error"],
        "ThreadError": ["type", "message"],
        "AgentMessageItem": ["id", "type", "text"],
        "ReasoningItem": ["id", "type", "text"],
        "CommandExecutionItem": [
            "id",
            "type",
            "command",
            "aggregated_output",
            "exit_code",
            "status",
        ],
        "FileChangeItem": ["id", "type", "changes", "status"],
        "McpToolCallItem": [
            "id",
            "type",
            "server",
            "tool",
            "arguments",
            "result",
            "error",
            "status",
        ],
        "WebSearchItem": ["id", "type", "query", "action"],
        "TodoListItem": ["id", "type", "items"],
        "ErrorItem": ["id", "type", "message"],
    }
    type_literals = {name: line["type"] for name, line in emitted.items()}
    assert type_literals == {
        "ThreadStarted": "thread.started",
        "TurnStarted": "turn.started",
        "TurnCompleted": "turn.completed",
        "TurnFailed": "turn.failed",
        "ThreadError": "error",
        "AgentMessageItem": "agent_message",
        "ReasoningItem": "reasoning",
        "CommandExecutionItem": "command_execution",
        "FileChangeItem": "file_change",
        "McpToolCallItem": "mcp_tool_call",
        "WebSearchItem": "web_search",
        "TodoListItem": "todo_list",
        "ErrorItem": "error",
    }
    assert list(json.loads(usage.to_json())) == [
        "input_tokens",
        "cached_input_tokens",
        "cache_write_input_tokens",
        "output_tokens",
        "reasoning_output_tokens",
    ]
