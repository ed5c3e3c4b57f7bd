"""The smallest MCP server: stdlib only, one `ping` tool (answers `pong`, or the `text` argument
when there is one). It starts in the time the interpreter
takes, so a benchmark with it measures the client's own MCP cost, not the server's."""

from __future__ import annotations

import json
import sys

TOOL = {"name": "ping", "description": "Answer pong.", "inputSchema": {"type": "object"}}


def answer(request: dict) -> dict | None:
    method, ident = request.get("method"), request.get("id")
    if ident is None:
        return None  # a notification
    if method == "initialize":
        version = request.get("params", {}).get("protocolVersion", "2025-06-18")
        result = {
            "protocolVersion": version,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "stdlib-ping", "version": "1"},
        }
    elif method == "tools/list":
        result = {"tools": [TOOL]}
    elif method == "tools/call":
        text = request.get("params", {}).get("arguments", {}).get("text", "pong")
        result = {"content": [{"type": "text", "text": text}]}
    else:
        return {"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": method}}
    return {"jsonrpc": "2.0", "id": ident, "result": result}


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            reply = answer(json.loads(line))
            if reply is not None:
                sys.stdout.write(json.dumps(reply) + "\n")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
