"""The Responses compat server behind `pycodex serve` (layer L4): routes only.

Clients speak the OpenAI Responses API to it; it speaks Chat Completions or Anthropic Messages to a
downstream model server. Translation lives in `pycodex.providers`; this package does HTTP, storage
and the request lifecycle.

    runner            `ServeOptions`, `ResponsesServer` (start, serve, close)
    app               routing, client bearer-token check, the request log
    responses_route   `POST /v1/responses`: history, compaction, stream or JSON, store, dump
    pipeline          one response's attempts, the reasoning-only rule, SSE and collecting sinks
    backend           `DownstreamTarget`, `Downstream`: the shared HTTP client and error mapping
    compaction        remote compaction: summary prompt, HMAC-signed tokens, expansion
    store             stored responses for `previous_response_id` (memory or SQLite)
    trajectory        the per-request JSON-lines dump for training on rollouts
    validation        checks on client bodies (400 with an OpenAI-style error)
    errors            `ApiError` and the code → HTTP status table
    http_server       HTTP/1.1 connections on asyncio streams, framed by h11
    prompts/          the summarization prompt and the summary hand-off text
"""

from pycodex.server.backend import DownstreamTarget
from pycodex.server.runner import ResponsesServer, ServeOptions

__all__ = ["DownstreamTarget", "ResponsesServer", "ServeOptions"]
