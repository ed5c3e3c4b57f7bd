"""The Responses compat server behind `pycodex serve` (layer L4): routes only.

Clients speak the OpenAI Responses API to it; it speaks Chat Completions or Anthropic Messages to a
downstream model server. Translation lives in `pycodex.providers`; this package does HTTP, storage
and the request lifecycle.

    runner            `ServeOptions`, `ResponsesServer` (start, serve, close)
    workers           `serve --workers N`: forked processes on one port (SO_REUSEPORT)
    app               routing, the checks every request passes, the request log
    access            the Host / Origin / Content-Type checks that keep web pages out
    responses_route   `POST /v1/responses`: history, compaction, stream or JSON, store, dump
    stored_routes     `GET`/`DELETE /v1/responses/{id}`, `GET .../input_items`
    pipeline          one response's attempts, the reasoning-only rule, SSE and collecting sinks
    backend           `DownstreamTarget`, `Downstream`: the shared HTTP client and error mapping
    compaction        remote compaction: summary prompt, HMAC-signed tokens, expansion
    store             stored responses as chains of new items (memory), caps, item ids
    sqlite_store      the same in one SQLite file shared by every worker
    private_files     files created 0600 (directories 0700), published atomically
    trajectory        the per-request JSON-lines dump for training on rollouts
    validation        checks on client bodies: strict JSON, fields (400 naming the parameter)
    input_validation  checks on input items, tools and tool_choice
    errors            `ApiError`, the code → HTTP status table, the 400 builders
    http_server       HTTP/1.1 connections on asyncio streams, framed by h11
    prompts/          the summarization prompt and the summary hand-off text
"""

from pycodex.server.backend import DownstreamTarget
from pycodex.server.runner import ResponsesServer, ServeOptions

__all__ = ["DownstreamTarget", "ResponsesServer", "ServeOptions"]
