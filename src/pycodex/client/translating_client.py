"""The part the Chat Completions and Anthropic Messages clients share.

Both speak Responses to the engine and another wire API to the model server, through the pure
translators of `pycodex.providers`:

    Prompt → build_responses_body → downstream body (providers) → POST with HTTP retries
    (client.http_retries) → SSE (client.sse) → stream translator (providers) → Responses event dicts
    → translate_event (client.responses_stream) → internal ResponseEvents

So retries, `Retry-After`, idle timeouts and error classification are those of the Responses
path, and an in-stream failure becomes the same typed error a Responses server's
`response.failed` would.

The reasoning-only rule (issue 7): an answer with reasoning and nothing else (no text, no tool
call) is never shown or recorded. The translators hold reasoning back until something else
arrives, so such an attempt is dropped and the same downstream request is sent once more,
silently; a second reasoning-only answer ends the request with a non-retryable
`model_output_invalid` error.
"""

from __future__ import annotations

import json
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from pycodex._records import dataclass, field
from pycodex.client.http_model_client import DEFAULT_ORIGINATOR, HttpModelClient
from pycodex.client.http_retries import identity_headers, send_with_retries, sse_events
from pycodex.client.request import (
    ModelSettings,
    Prompt,
    RequestContext,
    RetryListener,
    build_responses_body,
)
from pycodex.client.responses_stream import MalformedEvent, translate_event
from pycodex.client.sse import SSEEvent
from pycodex.client.transport import HttpClient
from pycodex.protocol.errors import StreamDisconnected
from pycodex.protocol.response_events import ResponseEvent, StreamWarning
from pycodex.providers.translator import StreamTranslator

if TYPE_CHECKING:
    from pycodex.config import Config, ModelProviderInfo

REASONING_ONLY_TWICE = "the model answered with reasoning only, twice"

Event = dict[str, Any]
WarningSink = Callable[[str], None]


TranslatorT = TypeVar("TranslatorT", bound=StreamTranslator)


@dataclass(frozen=True, slots=True)
class DownstreamRequest:
    """One translated request: where it goes, its body, what the translation left out."""

    path: str
    body: dict[str, Any]
    warnings: tuple[str, ...]
    custom_tool_names: frozenset[str]
    namespaced_tools: Mapping[str, tuple[str, str]] = field(default_factory=dict)


class DownstreamModelClient(HttpModelClient, ABC, Generic[TranslatorT]):
    """A `ModelClient` for a non-Responses wire API; subclasses supply the four hooks below."""

    end_marker: ClassVar[str] = "the end of the response"
    """What a complete downstream stream ends with, named in the disconnect message."""

    def __init__(
        self,
        provider: ModelProviderInfo,
        settings: ModelSettings,
        *,
        env: Mapping[str, str] | None = None,
        http: HttpClient | None = None,
        originator: str = DEFAULT_ORIGINATOR,
        on_warning: WarningSink | None = None,
    ) -> None:
        super().__init__(provider, settings, env=env, http=http, originator=originator)
        self._on_warning = on_warning
        self.warnings: list[str] = []
        """What translation had to leave out (e.g. hosted tools), each reported once."""

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        http: HttpClient | None = None,
        originator: str = "",
        settings: ModelSettings | None = None,
        on_warning: WarningSink | None = None,
    ) -> Self:
        client = super().from_config(config, http=http, originator=originator, settings=settings)
        client._on_warning = on_warning
        return client

    # --- hooks ------------------------------------------------------------------------------

    @abstractmethod
    def translate_request(self, body: Mapping[str, Any]) -> DownstreamRequest:
        """The downstream request for a Responses request body."""

    @abstractmethod
    def auth_headers(self) -> dict[str, str]:
        """How this wire API carries the key (provider headers are added after, and win)."""

    @abstractmethod
    def new_translator(self, response_id: str, request: DownstreamRequest) -> TranslatorT:
        """A fresh stream translator for one `stream()` call."""

    @abstractmethod
    def feed(self, translator: TranslatorT, sse: SSEEvent) -> tuple[list[Event], bool]:
        """Feed one SSE event; return the Responses events and whether the stream is complete."""

    # --- the request ------------------------------------------------------------------------

    def headers(self, context: RequestContext) -> dict[str, str]:
        headers = identity_headers(self.originator, context, self.settings)
        headers.update(self.auth_headers())
        headers.update(self.provider.headers(self._env))
        return headers

    async def stream(self, prompt: Prompt, context: RequestContext) -> AsyncIterator[ResponseEvent]:
        """Send one request and yield its events until the response completes."""
        request = self.translate_request(build_responses_body(prompt, self.settings, context))
        self._report(request.warnings)
        body = json.dumps(request.body, ensure_ascii=False).encode()
        url = self.provider.url_for(request.path)
        send = _Send(url, body, self.headers(context), context.on_retry)
        translator = self.new_translator(_new_response_id(), request)
        async for event in self._attempt(send, translator, translator.start()):
            yield event
        if translator.reasoning_only:
            translator.retry()
            async for event in self._attempt(send, translator, []):
                yield event
            if translator.reasoning_only:
                # Raises: translate_event turns the `response.failed` into the typed error.
                _translated(translator.fail("model_output_invalid", REASONING_ONLY_TWICE))
        for event in _translated(translator.finish()):
            yield event

    async def _attempt(
        self, send: _Send, translator: TranslatorT, opening: list[Event]
    ) -> AsyncIterator[ResponseEvent]:
        """One downstream request, streamed through the translator up to its end marker."""
        response = await send_with_retries(
            self._client(), self.provider, send.url, send.body, send.headers, send.on_retry
        )
        try:
            # `response.created` waits for the server's answer: a refused request has no response.
            for event in _translated(opening):
                yield event
            async for sse in sse_events(response):
                try:
                    events, complete = self.feed(translator, sse)
                except MalformedEvent as err:
                    yield StreamWarning(str(err))  # skipped; the stream goes on
                    continue
                for event in _translated(events):
                    yield event
                if complete:
                    return
        finally:
            await response.aclose()
        raise StreamDisconnected(
            f"stream disconnected before completion: stream closed before {self.end_marker}"
        )

    def _report(self, warnings: Iterable[str]) -> None:
        for warning in warnings:
            if warning in self.warnings:
                continue
            self.warnings.append(warning)
            if self._on_warning is not None:
                self._on_warning(warning)


@dataclass(frozen=True, slots=True)
class _Send:
    url: str
    body: bytes
    headers: dict[str, str]
    on_retry: RetryListener | None


def _translated(events: list[Event]) -> list[ResponseEvent]:
    """The internal events of Responses event dicts; raises on `response.failed`."""
    out: list[ResponseEvent] = []
    for payload in events:
        try:
            event = translate_event(payload)
        except MalformedEvent as err:
            event = StreamWarning(str(err))
        if event is not None:
            out.append(event)
    return out


def _new_response_id() -> str:
    return f"resp_{uuid.uuid4().hex}"


def created_at() -> int:
    return int(time.time())


def decode_json(sse: SSEEvent) -> dict[str, Any] | None:
    """The JSON object an SSE event carries; None for keep-alives and non-objects. Data that
    is not JSON raises `MalformedEvent`: the event is skipped with a warning."""
    data = sse.data.strip()
    if not data:
        return None
    try:
        payload = json.loads(data)
    except ValueError as err:
        raise MalformedEvent(f"skipped a malformed event from the model server: {err}") from None
    return payload if isinstance(payload, dict) else None
