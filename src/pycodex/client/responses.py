"""The Responses API client: `POST {base_url}/responses` with `stream: true`.

HTTP-level failures are retried silently by `client.http_retries` (`request_max_retries`, backoff,
`Retry-After` honoured). What is left after that is raised as a typed error; the engine decides
whether to re-send the turn's request (`stream_max_retries`, shown as "Reconnecting... n/5").
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from pycodex.client.http_model_client import DEFAULT_ORIGINATOR, HttpModelClient
from pycodex.client.http_retries import identity_headers, send_with_retries, with_idle_timeout
from pycodex.client.request import Prompt, RequestContext, encode_responses_body
from pycodex.client.responses_stream import TERMINAL_EVENTS, decode_event_data, translate_event
from pycodex.client.sse import aiter_sse
from pycodex.client.transport import Response
from pycodex.protocol.errors import StreamDisconnected
from pycodex.protocol.response_events import ResponseEvent

__all__ = ["DEFAULT_ORIGINATOR", "ResponsesModelClient"]


class ResponsesModelClient(HttpModelClient):
    """Streams responses from one provider for one thread's model settings."""

    @classmethod
    def from_codex_config(cls, **overrides: Any) -> ResponsesModelClient:
        """Build a client from `$CODEX_HOME/config.toml` and the environment, as the CLI would."""
        from pycodex.config import ConfigOverrides, resolve_config

        config = resolve_config(ConfigOverrides(**overrides), env=os.environ)
        return cls.from_config(config, originator="pycodex_library")

    def headers(self, context: RequestContext) -> dict[str, str]:
        headers = identity_headers(self.originator, context, self.settings)
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        headers.update(self.provider.headers(self._env))
        return headers

    async def stream(self, prompt: Prompt, context: RequestContext) -> AsyncIterator[ResponseEvent]:
        """Send one request and yield its events until `response.completed`."""
        body = encode_responses_body(prompt, self.settings, context).encode()
        url = self.provider.url_for("/responses")
        response = await send_with_retries(
            self._client(), self.provider, url, body, self.headers(context)
        )
        try:
            async for event in self._events(response):
                yield event
        finally:
            await response.aclose()

    async def _events(self, response: Response) -> AsyncIterator[ResponseEvent]:
        idle_s = self.provider.stream_idle_timeout_ms / 1000
        chunks = with_idle_timeout(response.aiter_bytes(), idle_s)
        async for sse in aiter_sse(chunks):
            payload = decode_event_data(sse.event, sse.data)
            if payload is None:
                continue
            event = translate_event(payload)
            if event is not None:
                yield event
            if payload.get("type") in TERMINAL_EVENTS:
                return
        raise StreamDisconnected(
            "stream disconnected before completion: stream closed before response.completed"
        )
