"""The Responses API client: `POST {base_url}/responses` with `stream: true`.

HTTP-level failures are retried here, silently, with exponential backoff (`request_max_retries`;
`Retry-After` honoured). What is left after that is raised as a typed error; the engine decides
whether to re-send the turn's request (`stream_max_retries`, shown as "Reconnecting... n/5").
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from pycodex._version import __version__
from pycodex.client.classify import classify_client_error, retry_after_from_headers
from pycodex.client.request import (
    ModelSettings,
    Prompt,
    RequestContext,
    RetryPolicy,
    build_responses_body,
)
from pycodex.client.responses_stream import TERMINAL_EVENTS, decode_event_data, translate_event
from pycodex.client.sse import aiter_sse
from pycodex.protocol.errors import (
    IdleTimeout,
    RetryLimitReached,
    ServerError,
    StreamDisconnected,
)
from pycodex.protocol.response_events import ResponseEvent

if TYPE_CHECKING:
    from pycodex.config import Config, ModelProviderInfo

DEFAULT_ORIGINATOR = "pycodex_exec"


class ResponsesModelClient:
    """Streams responses from one provider for one thread's model settings."""

    def __init__(
        self,
        provider: ModelProviderInfo,
        settings: ModelSettings,
        *,
        env: Mapping[str, str] | None = None,
        http: httpx.AsyncClient | None = None,
        originator: str = DEFAULT_ORIGINATOR,
    ) -> None:
        self.provider = provider
        self.settings = settings
        self._env = dict(os.environ if env is None else env)
        self._http = http
        self._owns_http = http is None
        self.originator = originator
        # Resolved now so a missing key is a configuration error before any turn starts.
        self._api_key = provider.api_key(self._env)
        self.retry_policy = RetryPolicy(
            stream_max_retries=provider.stream_max_retries,
            base_delay_s=provider.retry_base_delay_ms / 1000,
        )

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        http: httpx.AsyncClient | None = None,
        originator: str = "",
        settings: ModelSettings | None = None,
    ) -> ResponsesModelClient:
        """`settings` (from the model catalog) wins over the raw config values."""
        settings = settings or ModelSettings(
            model=config.model,
            reasoning_effort=config.model_reasoning_effort,
            reasoning_summary=config.model_reasoning_summary,
            verbosity=config.model_verbosity,
        )
        return cls(
            config.model_provider,
            settings,
            env=config.env,
            http=http,
            originator=originator or DEFAULT_ORIGINATOR,
        )

    @classmethod
    def from_codex_config(cls, **overrides: Any) -> ResponsesModelClient:
        """Build a client from `$CODEX_HOME/config.toml` and the environment, as the CLI would."""
        from pycodex.config import ConfigOverrides, resolve_config

        config = resolve_config(ConfigOverrides(**overrides), env=os.environ)
        return cls.from_config(config, originator="pycodex_library")

    def with_model(self, model: str) -> ResponsesModelClient:
        clone = ResponsesModelClient.__new__(ResponsesModelClient)
        clone.__dict__.update(self.__dict__)
        clone.settings = replace(self.settings, model=model)
        return clone

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            idle = self.provider.stream_idle_timeout_ms / 1000
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(idle, connect=30.0))
        return self._http

    def headers(self, context: RequestContext) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream",
            "originator": self.originator,
            "user-agent": f"pycodex/{__version__} ({self.originator})",
            "session-id": context.session_id,
            "thread-id": context.thread_id,
            "x-client-request-id": context.client_request_id,
            "x-codex-turn-metadata": context.turn_metadata_header(self.settings.model),
        }
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        headers.update(self.provider.headers(self._env))
        return headers

    async def stream(self, prompt: Prompt, context: RequestContext) -> AsyncIterator[ResponseEvent]:
        """Send one request and yield its events until `response.completed`."""
        body = json.dumps(
            build_responses_body(prompt, self.settings, context), ensure_ascii=False
        ).encode()
        response = await self._send_with_retries(body, context)
        try:
            async for event in self._events(response):
                yield event
        finally:
            await response.aclose()

    async def _send_with_retries(self, body: bytes, context: RequestContext) -> httpx.Response:
        client = self._client()
        url = self.provider.url_for("/responses")
        max_retries = self.provider.request_max_retries
        attempt = 0
        while True:
            request = client.build_request("POST", url, content=body, headers=self.headers(context))
            try:
                response = await client.send(request, stream=True)
            except httpx.TransportError as err:
                if attempt >= max_retries:
                    raise StreamDisconnected(f"error sending request: {_describe(err)}") from None
            else:
                if response.status_code < 400:
                    return response
                error_body = await response.aread()
                await response.aclose()
                delay = self._retry_delay(response, error_body, attempt, max_retries)
                if delay is None:
                    raise self._final_http_error(response, error_body)
                await asyncio.sleep(delay)
                attempt += 1
                continue
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1

    def _retry_delay(
        self, response: httpx.Response, body: bytes, attempt: int, max_retries: int
    ) -> float | None:
        """Seconds to wait before retrying this HTTP failure, or None to give up."""
        status = response.status_code
        retryable = status == 429 or status >= 500
        if not retryable or attempt >= max_retries:
            return None
        if status == 429 and b"insufficient_quota" in body:
            return None
        after = retry_after_from_headers(response.headers)
        return after if after is not None else self._backoff(attempt)

    def _final_http_error(self, response: httpx.Response, body: bytes) -> Exception:
        status = response.status_code
        if status >= 500:
            detail = body.decode("utf-8", "replace").strip()[:300]
            return ServerError(f"unexpected status {status}: {detail}".rstrip(": "), status)
        if status == 429 and b"insufficient_quota" not in body:
            return RetryLimitReached(status, response.reason_phrase or "Too Many Requests")
        return classify_client_error(status, body)

    def _backoff(self, attempt: int) -> float:
        return self.provider.retry_base_delay_ms / 1000 * 2.0**attempt

    async def _events(self, response: httpx.Response) -> AsyncIterator[ResponseEvent]:
        idle_s = self.provider.stream_idle_timeout_ms / 1000
        chunks = _with_idle_timeout(response.aiter_raw(), idle_s)
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


async def _with_idle_timeout(chunks: AsyncIterator[bytes], idle_s: float) -> AsyncIterator[bytes]:
    iterator = chunks.__aiter__()
    while True:
        try:
            async with asyncio.timeout(idle_s):
                chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise IdleTimeout(
                "stream disconnected before completion: idle timeout waiting for SSE"
            ) from None
        except httpx.TransportError as err:
            raise StreamDisconnected(
                f"stream disconnected before completion: {_describe(err)}"
            ) from None
        yield chunk


def _describe(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
