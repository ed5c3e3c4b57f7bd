"""MCP (Model Context Protocol): other programs' tools, offered to the model.

- `config`: `[mcp_servers.<name>]` tables, checked into typed records (no SDK needed).
- `names`: how server and tool names become namespace and function names.
- `tools`: one `ToolNamespace` per server (`mcp__<server>`), the approval rules, and the
  `list_mcp_resources` / `list_mcp_resource_templates` / `read_mcp_resource` tools.
- `output`: what a `tools/call` result becomes for the model and for `mcp_tool_call` items.
- `connection`: one live server (stdio or streamable HTTP) on the official `mcp` SDK.
- `manager`: every configured server, started concurrently, shared by a tree of threads.

Only `connection` (and what it imports) loads the SDK, and only when a server is configured:
a session without MCP servers imports nothing from here but `config`.
"""
