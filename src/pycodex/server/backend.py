"""The model server behind the compat server: where it is, how to talk to it, what it answered.

`Downstream` holds the one shared `transport.HttpClient`. It turns a Responses request body into the
downstream's wire format (through `pycodex.providers`), opens the downstream stream, and turns an
HTTP error or an unreachable server into an `ApiError` *before* anything reaches the client, so
the route can still answer with a plain HTTP error. A `TranslatorSession` wraps the translator of
one response and feeds it decoded SSE events, reporting when the downstream said it was done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import urlencode

from pycodex._records import dataclass, field
from pycodex.client.sse import SSEEvent, aiter_sse
from pycodex.client.transport import HttpClient, Response, TransportError, TransportTimeout
from pycodex.providers.anthropic import anthropic_headers, responses_to_messages_request
from pycodex.providers.anthropic_stream import MessagesStreamTranslator
from pycodex.providers.chat import responses_to_chat_request
from pycodex.providers.chat_stream import ChatStreamTranslator
from pycodex.providers.errors import classify_downstream_http_error
from pycodex.providers.kinds import ProviderKind
from pycodex.providers.stream_writer import Event
from pycodex.providers.translator import StreamTranslator
from pycodex.server.errors import ApiError

logger = logging.getLogger("pycodex.server")

DownstreamWire = Literal["chat", "messages"]
_RETRY_HEADERS = ("retry-after", "retry-after-ms")
_ERROR_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class DownstreamTarget:
    """Everything needed to reach the model server. Holds the API key: never log it."""

    base_url: str
    wire_api: DownstreamWire
    kind: ProviderKind
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    query_params: Mapping[str, str] = field(default_factory=dict)
    idle_timeout_s: float = 300.0

    def url(self, path: str) -> str:
        url = self.base_url.rstrip("/") + "/" + path
        if self.query_params:
            url += ("&" if "?" in url else "?") + urlencode(dict(self.query_params))
        return url

    def display_url(self) -> str:
        """The base URL fit for logs and error messages (query strings may hold keys)."""
        return self.base_url.split("?", 1)[0]

    def auth_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.wire_api == "messages":
            headers.update(anthropic_headers(self.api_key or ""))
            if not self.api_key:
                headers.pop("x-api-key")  # a keyless local server: send no empty credential
        elif self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        return headers


@dataclass(frozen=True, slots=True)
class DownstreamRequest:
    body: dict[str, Any]
    custom_tool_names: frozenset[str]
    # Namespace members sent flattened (`ns__name`); their calls are mapped back.
    namespaced_tools: Mapping[str, tuple[str, str]] = field(default_factory=dict)


class TranslatorSession:
    """One response's translator, fed whole SSE events; `feed` also says "downstream is done"."""

    def __init__(self, wire_api: DownstreamWire, translator: StreamTranslator) -> None:
        self.wire_api = wire_api
        self.translator = translator

    def feed(self, event: SSEEvent) -> tuple[list[Event], bool]:
        if self.wire_api == "chat" and event.data.strip() == "[DONE]":
            return [], True
        if not event.data.strip():
            return [], False  # an empty data line some servers send as a keep-alive
        try:
            data = json.loads(event.data)
        except ValueError:
            message = "the model server sent an event that is not JSON"
            return self.translator.fail("server_error", message), False
        if not isinstance(data, dict):
            return [], False
        if isinstance(self.translator, ChatStreamTranslator):
            return self.translator.feed(data), False
        assert isinstance(self.translator, MessagesStreamTranslator)
        done = (data.get("type") or event.event) == "message_stop"
        return self.translator.feed(event.event, data), done


class Downstream:
    """The model server, reached through one shared connection pool."""

    def __init__(self, target: DownstreamTarget, http: HttpClient) -> None:
        self.target = target
        self._http = http

    def translate(self, body: Mapping[str, Any]) -> DownstreamRequest:
        if self.target.wire_api == "chat":
            chat = responses_to_chat_request(body, kind=self.target.kind)
            request, warnings = chat.body, chat.warnings
            custom, namespaced = chat.custom_tool_names, chat.namespaced_tools
        else:
            messages = responses_to_messages_request(body)
            request, warnings = messages.body, messages.warnings
            custom, namespaced = messages.custom_tool_names, messages.namespaced_tools
        for warning in warnings:
            logger.warning("request translation: %s", warning)
        return DownstreamRequest(request, custom, namespaced)

    def new_session(
        self,
        response_id: str,
        model: str,
        custom_tool_names: Iterable[str],
        *,
        created_at: int,
        response_fields: Mapping[str, Any],
        namespaced_tools: Mapping[str, tuple[str, str]] | None = None,
    ) -> TranslatorSession:
        cls = ChatStreamTranslator if self.target.wire_api == "chat" else MessagesStreamTranslator
        translator = cls(
            response_id,
            model,
            custom_tool_names,
            created_at=created_at,
            response_fields=response_fields,
            namespaced_tools=namespaced_tools,
        )
        return TranslatorSession(self.target.wire_api, translator)

    @asynccontextmanager
    async def stream(self, body: Mapping[str, Any]) -> AsyncIterator[AsyncIterator[SSEEvent]]:
        """The downstream's SSE events; HTTP errors and transport failures raise `ApiError`."""
        path = "chat/completions" if self.target.wire_api == "chat" else "messages"
        headers = {
            **self.target.auth_headers(),
            "accept": "text/event-stream",
            "content-type": "application/json",
        }
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = await self._http.send(
                "POST", self.target.url(path), headers=headers, content=content
            )
        except TransportError as err:
            raise self._transport_error(err) from None
        try:
            if response.status_code >= 400:
                raise await self._http_error(response)
            yield self._events(response)
        finally:
            await response.aclose()

    async def models(self) -> tuple[int, bytes, str]:
        """`GET {base}/models` as the downstream answered it: status, body, content type."""
        try:
            response = await self._http.get(
                self.target.url("models"), headers=self.target.auth_headers()
            )
        except TransportError as err:
            raise self._transport_error(err) from None
        content_type = response.headers.get("content-type", "application/json")
        return response.status_code, response.content, content_type

    async def _events(self, response: Response) -> AsyncIterator[SSEEvent]:
        try:
            async for event in aiter_sse(response.aiter_bytes()):
                yield event
        except TransportError as err:
            raise self._transport_error(err) from None

    async def _http_error(self, response: Response) -> ApiError:
        text = await _read_limited(response)
        code, message = classify_downstream_http_error(
            response.status_code, text, self.target.wire_api
        )
        passed = {k: response.headers[k] for k in _RETRY_HEADERS if k in response.headers}
        logger.info("downstream answered %d (%s)", response.status_code, code)
        return ApiError.from_code(
            code, message, downstream_status=response.status_code, headers=passed
        )

    def _transport_error(self, err: TransportError) -> ApiError:
        where = self.target.display_url()
        if isinstance(err, TransportTimeout):
            message = f"the model server at {where} did not answer in time"
            return ApiError(504, message, code="server_error")
        detail = type(err).__name__
        message = f"cannot reach the model server at {where} ({detail}: {err})"
        return ApiError(502, message, code="server_error")


async def _read_limited(response: Response) -> str:
    """An error body, capped: a misbehaving server must not make us buffer gigabytes."""
    pieces: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        pieces.append(chunk)
        size += len(chunk)
        if size >= _ERROR_BODY_LIMIT:
            break
    return b"".join(pieces)[:_ERROR_BODY_LIMIT].decode("utf-8", "replace")
