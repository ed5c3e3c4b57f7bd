"""The Chat Completions client: `POST {base_url}/chat/completions`, streamed.

For model servers that speak only Chat Completions (vLLM, llama.cpp, Ollama, LM Studio, most
gateways). The request is built as a Responses body and translated by
`pycodex.providers.chat.responses_to_chat_request`, adjusted for the provider's `provider_kind`;
the `chat.completion.chunk` stream comes back through `ChatStreamTranslator`. A stream is
complete only once `data: [DONE]` arrives: one that ends earlier is a retryable disconnect.
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
from pycodex.providers.chat import ChatStreamTranslator, responses_to_chat_request
from pycodex.providers.kinds import provider_kind

CHAT_PATH = "/chat/completions"
DONE_DATA = "[DONE]"


class ChatCompletionsModelClient(DownstreamModelClient[ChatStreamTranslator]):
    """Streams responses from a Chat Completions server for one thread's model settings."""

    end_marker = "data: [DONE]"

    def translate_request(self, body: Mapping[str, Any]) -> DownstreamRequest:
        kind = provider_kind(self.provider.provider_kind)
        request = responses_to_chat_request(body, kind=kind)
        return DownstreamRequest(
            CHAT_PATH,
            request.body,
            request.warnings,
            request.custom_tool_names,
            request.namespaced_tools,
        )

    def auth_headers(self) -> dict[str, str]:
        # Key-less local servers get no authorization header at all: some reject an empty one.
        return {"authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def new_translator(self, response_id: str, request: DownstreamRequest) -> ChatStreamTranslator:
        return ChatStreamTranslator(
            response_id,
            self.settings.model,
            request.custom_tool_names,
            created_at=created_at(),
            namespaced_tools=request.namespaced_tools,
        )

    def feed(self, translator: ChatStreamTranslator, sse: SSEEvent) -> tuple[list[Event], bool]:
        if sse.data.strip() == DONE_DATA:
            return [], True
        chunk = decode_json(sse)
        if chunk is None:
            return [], False
        return translator.feed(chunk), False
