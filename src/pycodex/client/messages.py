"""The Anthropic Messages client: `POST {base_url}/messages`, streamed.

For Anthropic's API and servers that copy it. The request is built as a Responses body and
translated by `pycodex.providers.anthropic.responses_to_messages_request` (`max_tokens` always
set, thinking blocks replayed with their signatures, `tool_use`/`tool_result` pairs); the stream
comes back through `MessagesStreamTranslator`. The key travels as `x-api-key` next to
`anthropic-version` (a provider's `http_headers` may override the version). A stream is complete
only once `message_stop` arrives: one that ends earlier is a retryable disconnect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycodex.client.sse import SSEEvent
from pycodex.client.translating_client import (
    DownstreamModelClient,
    DownstreamRequest,
    Event,
    created_at,
    decode_json,
)
from pycodex.providers.anthropic import (
    MessagesStreamTranslator,
    anthropic_headers,
    responses_to_messages_request,
)

MESSAGES_PATH = "/messages"
STOP_EVENT = "message_stop"


class AnthropicMessagesModelClient(DownstreamModelClient[MessagesStreamTranslator]):
    """Streams responses from a Messages server for one thread's model settings."""

    end_marker = STOP_EVENT

    def translate_request(self, body: Mapping[str, Any]) -> DownstreamRequest:
        request = responses_to_messages_request(body)
        return DownstreamRequest(
            MESSAGES_PATH,
            request.body,
            request.warnings,
            request.custom_tool_names,
            request.namespaced_tools,
        )

    def auth_headers(self) -> dict[str, str]:
        headers = anthropic_headers(self._api_key or "")
        if not self._api_key:
            del headers["x-api-key"]  # a key-less compatible server: send no empty credential
        return headers

    def new_translator(
        self, response_id: str, request: DownstreamRequest
    ) -> MessagesStreamTranslator:
        return MessagesStreamTranslator(
            response_id,
            self.settings.model,
            request.custom_tool_names,
            created_at=created_at(),
            namespaced_tools=request.namespaced_tools,
        )

    def feed(self, translator: MessagesStreamTranslator, sse: SSEEvent) -> tuple[list[Event], bool]:
        data = decode_json(sse)
        if data is None:
            return [], False
        events = translator.feed(sse.event, data)
        kind = data.get("type") if isinstance(data.get("type"), str) else sse.event
        return events, kind == STOP_EVENT
