"""`pycodex app-server`: the JSON-RPC protocol the official Codex SDKs and editors speak.

One more frontend on the engine, beside exec and the REPL: it starts threads through the thread
manager, submits ops, and turns each thread's engine events into protocol notifications.

- `rpc`         the message kinds of the wire (JSON lines, no `jsonrpc` member) and error codes
- `transport`   reading requests from stdin and writing messages to stdout
- `server`      the dispatcher: one request at a time, server->client requests, overload
- `approvals`   approval questions as server->client requests, and the client's answers
- `mcp_startup` the MCP servers: started for the first thread, their status told to each
- `params`      request params parsed into typed records (bad params are -32602)
- `thread_ops`  thread/start, resume, fork, list, read, name, archive, compact
- `listing`     thread/list: session files filtered and paged
- `turn_ops`    turn/start, steer, interrupt; model/list
- `models`      model/list from the model catalog
- `loaded`      a thread this process runs: its engine, its event pump, its turns
- `translate`   engine events -> notifications and items, per turn
- `history`     turns and items rebuilt from a rollout file (thread/read, resume)
- `wire`        the JSON shapes of threads, turns, items, usage and policies

See docs/app-server.md.
"""
