"""The Responses API client: `POST {base_url}/responses` with `stream: true`.

HTTP-level failures are retried by `client.http_retries` (connection errors and 5xx quietly,
429 visibly through `RequestContext.on_retry`, `Retry-After` honoured). What is left after that is
raised as a typed error; the engine decides whether to re-send the turn's request
(`stream_max_retries`, shown as "Reconnecting... n/5"). A malformed event is skipped with a
`StreamWarning`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from pycodex.client.http_model_client import DEFAULT_ORIGINATOR, HttpModelClient
from pycodex.client.http_retries import identity_headers, send_with_retries, sse_events
from pycodex.client.request import Prompt, RequestContext, encode_responses_body
from pycodex.client.responses_stream import event_from_sse
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
            self._client(), self.provider, url, body, self.headers(context), context.on_retry
        )
        try:
            async for sse in sse_events(response):
                event, last = event_from_sse(sse)
                if event is not None:
                    yield event
                if last:
                    return
        finally:
            await response.aclose()
        raise StreamDisconnected(
            "stream disconnected before completion: stream closed before response.completed"
        )
