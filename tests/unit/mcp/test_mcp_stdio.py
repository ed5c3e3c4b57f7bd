"""Stdio MCP servers started before the SDK is imported (`pycodex.mcp.stdio`): real processes,
the stdlib server from tests/support, the SDK's own `ClientSession` on our pipes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from pycodex.mcp.config import parse_server
from pycodex.mcp.manager import McpConnectionManager
from pycodex.mcp.stdio import StdioProcess
from support.mcp_servers import process_alive

STDLIB_SERVER = Path(__file__).resolve().parents[2] / "support" / "mcp_stdlib_server.py"

# Run in a fresh interpreter, so that nothing has imported the SDK yet: notes which children
# this process has at the moment `mcp` is first imported, then starts the server, lists its
# tools and makes a call with a text longer than one read of the pipe (64 KiB).
ORDER_SCRIPT = """
import asyncio, json, os, sys
from pathlib import Path
from pycodex.mcp.config import parse_server
from pycodex.mcp.manager import McpConnectionManager

at_import = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "mcp" and not at_import:
            children = Path(f"/proc/self/task/{os.getpid()}/children").read_text().split()
            at_import.append([int(pid) for pid in children])
        return None

sys.meta_path.insert(0, Watch())

async def main():
    server = parse_server("ping", {"command": sys.executable, "args": [sys.argv[1]]})
    manager = McpConnectionManager([server], cwd=Path.cwd(), env=os.environ)
    startup = await manager.start()
    [connection] = manager.connections()
    big = "x" * 300_000
    result = await connection.call_tool("ping", {"text": big}, 30)
    await manager.aclose()
    print(json.dumps({
        "failures": [f.message for f in startup.failures],
        "tools": [tool.name for tool in connection.tools],
        "round_trip": result.content == [{"type": "text", "text": big}],
        "children_at_import": at_import[0],
        "server_pid": connection._process.process.pid,
        "server_exit": connection._process.process.returncode,
    }))

asyncio.run(main())
"""


def test_the_server_runs_before_the_sdk_is_imported_and_talks_through_our_pipes(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ORDER_SCRIPT, str(STDLIB_SERVER)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["failures"] == [] and report["tools"] == ["ping"]
    assert report["round_trip"] is True
    assert report["children_at_import"] == [report["server_pid"]]
    assert report["server_exit"] == 0  # it left on its own once its stdin closed


async def test_a_server_that_ignores_stdin_and_sigterm_is_killed_with_its_children(
    tmp_path: Path,
) -> None:
    script = 'trap "" TERM; sleep 60 & echo $!; exec sleep 60'
    with (tmp_path / "stderr").open("w+") as stderr:
        server = await StdioProcess.spawn(
            ["sh", "-c", script], env=os.environ, cwd=tmp_path, stderr=stderr
        )
        server.exit_grace_s = 0.2
        assert server.process.stdout is not None
        child = int(await server.process.stdout.readline())
        assert process_alive(child)
        await server.stop()
        await server.stop()  # a second stop waits for the same one
    assert server.process.returncode == -signal.SIGKILL
    assert not process_alive(child)


async def test_a_command_that_does_not_exist_is_one_line_at_start(tmp_path: Path) -> None:
    server = parse_server("gone", {"command": str(tmp_path / "no-such-server")})
    manager = McpConnectionManager([server], cwd=tmp_path, env=os.environ)
    startup = await manager.start()
    await manager.aclose()
    [failure] = startup.failures
    assert failure.message == f"No such file or directory: {tmp_path / 'no-such-server'}"
