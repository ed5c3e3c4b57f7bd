"""A small MCP server on the official SDK, for the MCP tests: run it as a stdio server, or as a
streamable HTTP one on 127.0.0.1.

    python mcp_probe_server.py stdio [--weird-names] [--delay SECONDS] [--instructions TEXT]
    python mcp_probe_server.py http [--token TOKEN]     # prints "PORT <n>" once it listens

Tools: `echo` (read-only), `add` (structured result), `tiny_image` (an image), `fail` (an
`isError` result), `slow` (sleeps), `env` (reads its own environment), `write_note` (not
read-only, appends to the file named by PROBE_NOTES). `--weird-names` adds `read-file`,
`get.weather` and `Upper_Case`. Every `tools/call` is appended to the file named by PROBE_LOG
when set (`echo` adds the request's `_meta`), so tests can see what reached the server.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import sys
import time
from typing import Annotated, Any, TypedDict

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ImageContent, TextContent, ToolAnnotations
from pydantic import Field

# A 1x1 transparent PNG.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
READ_ONLY = ToolAnnotations(read_only_hint=True)


class Sum(TypedDict):
    sum: int
    note: str


def _log(tool: str, arguments: dict[str, Any], meta: Any = None) -> None:
    path = os.environ.get("PROBE_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            entry = {"tool": tool, "arguments": arguments, "pid": os.getpid(), "meta": meta}
            log.write(json.dumps(entry) + "\n")


def build(weird_names: bool, instructions: str | None) -> MCPServer:
    server = MCPServer("probe", instructions=instructions, log_level="WARNING")

    @server.tool(description="Echo the text back.", annotations=READ_ONLY, structured_output=False)
    def echo(text: Annotated[str, Field(description="What to echo.")], ctx: Context) -> str:
        _log("echo", {"text": text}, ctx.request_context.meta)
        return f"echo: {text}"

    @server.tool(description="Add two integers; structured result.", annotations=READ_ONLY)
    def add(a: int, b: int) -> Sum:
        _log("add", {"a": a, "b": b})
        return {"sum": a + b, "note": "added"}

    @server.tool(description="A tiny PNG image.", annotations=READ_ONLY)
    def tiny_image() -> list[TextContent | ImageContent]:
        _log("tiny_image", {})
        data = base64.b64encode(TINY_PNG).decode()
        return [
            TextContent(type="text", text="here is the image"),
            ImageContent(type="image", data=data, mime_type="image/png"),
        ]

    @server.tool(description="Always fails.", annotations=READ_ONLY, structured_output=False)
    def fail() -> str:
        _log("fail", {})
        raise ToolError("tool failed: nope")

    @server.tool(description="Sleep, then answer.", annotations=READ_ONLY, structured_output=False)
    async def slow(seconds: float) -> str:
        _log("slow", {"seconds": seconds})
        await asyncio.sleep(seconds)
        return "slept"

    @server.tool(
        description="Read an environment variable of the server.",
        annotations=READ_ONLY,
        structured_output=False,
    )
    def env(name: str) -> str:
        _log("env", {"name": name})
        return f"{name}={os.environ.get(name, '<unset>')}"

    @server.tool(description="Append a note to the notes file (writes).", structured_output=False)
    def write_note(note: str) -> str:
        _log("write_note", {"note": note})
        with open(os.environ.get("PROBE_NOTES", os.devnull), "a", encoding="utf-8") as notes:
            notes.write(note + "\n")
        return "noted"

    @server.resource("probe://readme", description="A short readme.", mime_type="text/plain")
    def readme() -> str:
        return "probe readme text"

    if weird_names:
        for name in ("read-file", "get.weather", "Upper_Case"):
            server.add_tool(
                _named(name), name=name, description=f"The {name} tool.", structured_output=False
            )
    return server


def _named(name: str) -> Any:
    def tool(value: str = "") -> str:
        _log(name, {"value": value})
        return f"{name}: {value}"

    return tool


def _serve_http(server: MCPServer, token: str | None) -> None:
    import anyio
    import uvicorn
    from starlette.types import ASGIApp, Receive, Scope, Send

    app: ASGIApp = server.streamable_http_app(stateless_http=False)
    inner = app

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if token and scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await inner(scope, receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections made from now on wait in the backlog until uvicorn accepts
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(guarded, log_level="warning", lifespan="on")
    anyio.run(lambda: uvicorn.Server(config).serve(sockets=[sock]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["stdio", "http"])
    parser.add_argument("--weird-names", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--instructions")
    parser.add_argument("--token")
    args = parser.parse_args()
    if args.delay:
        time.sleep(args.delay)  # a server that is slow to start
    server = build(args.weird_names, args.instructions)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        _serve_http(server, args.token)
    sys.exit(0)


if __name__ == "__main__":
    main()
